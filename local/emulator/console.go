package emulator

import (
	"context"
	"time"

	"github.com/questlog/questlog/local/console"
)

// startConsole serves the web console over the running template.
func (e *Emulator) startConsole(ctx context.Context) error {
	mappings := make([]console.Mapping, len(e.mappings))
	for i, m := range e.mappings {
		mappings[i] = console.Mapping{Mapping: m.Mapping, Stats: &m.stats, LastBatch: func() time.Time {
			if ns := m.lastBatch.Load(); ns > 0 {
				return time.Unix(0, ns)
			}
			return time.Time{}
		}}
	}
	c, err := console.Start(ctx, console.Config{
		Addr: e.cfg.ConsoleAddr, Template: e.Template, Runtime: e.Runtime, Mappings: mappings,
		Brokers: e.Brokers, DatasetRoot: e.DatasetRoot, APIURL: e.APIURL, Logger: e.cfg.Logger,
		ProjectDir: e.cfg.ProjectDir, DataDir: e.cfg.DataDir, SQLSocket: e.svc.lock != nil, // the data directory is ours
	})
	if err != nil {
		return err
	}
	e.console = c
	e.ConsoleURL = c.URL()
	return nil
}
