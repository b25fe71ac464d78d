package sink_test

import (
	"context"
	"testing"

	"github.com/questlog/questlog/internal/sink/sinktest"
	"github.com/questlog/questlog/internal/store"
)

func TestExactlyOnceOnFileStore(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) (store.Store, store.Store) {
		dir := t.TempDir()
		a, err := store.Open(context.Background(), "file://"+dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := store.Open(context.Background(), "file://"+dir)
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	})
}
