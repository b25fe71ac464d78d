// Command questlog-hdfs runs the embedded HDFS NameNode and DataNode as a
// standalone process, for use with the hdfs CLI or any HDFS client:
//
//	go run ./local/hdfs/cmd/questlog-hdfs -data /tmp/questlog-hdfs
//	HADOOP_NAMENODE=127.0.0.1:8020 hdfs ls /
//
// It stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/questlog/questlog/local/hdfs"
)

func main() {
	var cfg hdfs.Config
	var debug bool
	flag.StringVar(&cfg.DataDir, "data", "", "data directory (required)")
	flag.StringVar(&cfg.NameNodeAddr, "namenode", "127.0.0.1:8020", "NameNode listen address")
	flag.StringVar(&cfg.DataNodeAddr, "datanode", "127.0.0.1:0", "DataNode listen address")
	flag.Int64Var(&cfg.BlockSize, "block-size", 128<<20, "default block size in bytes")
	flag.StringVar(&cfg.Superuser, "superuser", "", "superuser (default: the current user)")
	flag.DurationVar(&cfg.LeaseSoftLimit, "lease-soft-limit", 0, "lease soft limit (default 60s)")
	flag.BoolVar(&cfg.DisablePermissions, "no-permissions", false, "turn permission checks off")
	flag.BoolVar(&debug, "debug", false, "log every RPC and DataNode op")
	flag.Parse()
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "questlog-hdfs:", err)
		os.Exit(1)
	}
}

func run(cfg hdfs.Config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := hdfs.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("namenode %s\n", s.NameNodeAddr())
	<-ctx.Done()
	return s.Close()
}
