package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"

	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/lake"
)

// sqlLake answers the questions of sql and report. When an emulator runs
// on the data directory and reads the same dataset root, its console's
// engine answers them: it is up and its mirror is warm. Otherwise, or
// when it does not answer, or the question would change the session
// (CREATE, SET, …: the emulator's engine is shared), an engine of the
// command's own does; once started, it answers the rest of the command's
// questions, so a prompt's session stays in one place.
type sqlLake struct {
	c      *common
	remote *lake.Remote // of the emulator running when last asked
	own    *lake.Client
	tmp    string // where results are written until they are complete
}

// answerer is what both engines answer.
type answerer interface {
	Write(ctx context.Context, w io.Writer, sql string, out lake.Output) error
	WriteTables(ctx context.Context, w io.Writer, out lake.Output) error
	WriteSchema(ctx context.Context, w io.Writer, table string, out lake.Output) error
}

// openLake returns the lake of the dataset root the command's flags name.
// Nothing starts until the first question.
func openLake(c *common) *sqlLake { return &sqlLake{c: c} }

// Write runs sql and writes its result (see lake.Client.Write).
func (l *sqlLake) Write(ctx context.Context, w io.Writer, sql string, out lake.Output) error {
	return l.ask(ctx, func(a answerer) error { return a.Write(ctx, w, sql, out) })
}

// WriteTables writes the tables with their rows, files and bytes.
func (l *sqlLake) WriteTables(ctx context.Context, w io.Writer, out lake.Output) error {
	return l.ask(ctx, func(a answerer) error { return a.WriteTables(ctx, w, out) })
}

// WriteSchema writes a table's columns.
func (l *sqlLake) WriteSchema(ctx context.Context, w io.Writer, table string, out lake.Output) error {
	return l.ask(ctx, func(a answerer) error { return a.WriteSchema(ctx, w, table, out) })
}

func (l *sqlLake) ask(ctx context.Context, question func(answerer) error) error {
	if r := l.emulator(); r != nil {
		err := question(r)
		if !errors.Is(err, lake.ErrNotAnswered) {
			return err
		}
		level := slog.LevelWarn
		if errors.Is(err, lake.ErrChangesSession) {
			level = slog.LevelDebug
		}
		l.c.cfg.Logger.Log(ctx, level, "starting an SQL engine of this command's own", "reason", err)
	}
	if l.own == nil {
		var err error
		l.own, err = lake.Open(ctx, lake.Config{
			ProjectDir: l.c.cfg.ProjectDir, DataDir: l.c.cfg.DataDir, Template: l.c.cfg.Template,
			Resolve:  func(ctx context.Context) (string, func(), error) { return datasetRoot(ctx, l.c) },
			Progress: os.Stderr, Logger: l.c.cfg.Logger,
		})
		if err != nil {
			return err
		}
	}
	return question(l.own)
}

// emulator is the engine of the emulator running on the data directory,
// if it publishes one, reads the dataset root the flags name, and this
// command has no engine of its own yet.
func (l *sqlLake) emulator() *lake.Remote {
	if l.own != nil {
		return nil
	}
	st, ok := emulator.Published(dataDir(l.c))
	root, overridden := l.c.cfg.ParameterOverrides[emulator.ParamDatasetRoot]
	if !ok || st.SQLSocket == "" || overridden && root != st.DatasetRoot {
		return nil
	}
	if l.remote == nil || l.remote.Socket() != st.SQLSocket {
		if l.remote != nil {
			l.remote.Close()
		}
		l.remote = lake.NewRemote(st.SQLSocket)
		l.remote.AnsweredBy = func(pid string) {
			l.c.cfg.Logger.Debug("answered by the running emulator's SQL engine", "pid", pid, "socket", st.SQLSocket)
		}
	}
	return l.remote
}

// tempDir is a directory of this command's for results being written.
func (l *sqlLake) tempDir() (string, error) {
	if l.tmp == "" {
		dir, err := lake.PrivateDir(dataDir(l.c))
		if err != nil {
			return "", err
		}
		l.tmp = dir
	}
	return l.tmp, nil
}

// Close stops the command's own engine, if it started one.
func (l *sqlLake) Close() error {
	var errs []error
	if l.remote != nil {
		errs = append(errs, l.remote.Close())
	}
	if l.own != nil {
		errs = append(errs, l.own.Close())
	}
	if l.tmp != "" {
		errs = append(errs, os.RemoveAll(l.tmp))
	}
	return errors.Join(errs...)
}
