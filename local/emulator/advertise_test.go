package emulator_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/local/emulator"
)

func servicesConfig(t *testing.T) emulator.Config {
	return emulator.Config{
		ProjectDir: "../..", DataDir: t.TempDir(),
		KafkaAddr: "0.0.0.0:0", HDFSAddr: "0.0.0.0:0",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		LookupEnv: func(string) (string, bool) { return "", false },
	}
}

// Listening on every interface, the embedded Kafka and HDFS tell clients
// and functions the advertised host: in the broker's metadata, in
// KafkaBootstrapServers and in DatasetRoot. 127.0.0.2 is a loopback
// address only reachable here because the services listen on 0.0.0.0.
func TestServicesAdvertiseTheAdvertiseHost(t *testing.T) {
	cfg := servicesConfig(t)
	cfg.AdvertiseHost = "127.0.0.2"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := emulator.StartServicesOnly(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())

	if host, _, _ := net.SplitHostPort(e.Brokers[0]); host != "127.0.0.2" || len(e.Brokers) != 1 {
		t.Errorf("brokers %v, want 127.0.0.2", e.Brokers)
	}
	if !strings.HasPrefix(e.DatasetRoot, "hdfs://127.0.0.2:") {
		t.Errorf("DatasetRoot %s, want the NameNode at 127.0.0.2", e.DatasetRoot)
	}
	_, port, _ := net.SplitHostPort(e.Brokers[0])
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:" + port))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	brokers, err := kadm.NewClient(cl).ListBrokers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(brokers) != 1 || brokers[0].Host != "127.0.0.2" {
		t.Errorf("bootstrapped at 127.0.0.1, the metadata names %+v, want 127.0.0.2", brokers)
	}
}

func TestAdvertiseHostIsAHost(t *testing.T) {
	for _, bad := range []string{"10.0.0.5:9092", "http://10.0.0.5", "host name"} {
		cfg := servicesConfig(t)
		cfg.AdvertiseHost = bad
		e, err := emulator.StartServicesOnly(context.Background(), cfg)
		if err == nil {
			e.Close(context.Background())
			t.Errorf("advertise host %q accepted", bad)
		}
	}
}
