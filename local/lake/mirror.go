package lake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/questlog/questlog/internal/store"
)

// A mirror is a local copy of the landed files of a remote (HDFS) root,
// which DuckDB reads: it cannot read HDFS itself. Landed files never change
// once renamed into place (their names carry their offset ranges), so a
// file present locally with the remote's size is current, and a refresh
// fetches only new files and drops deleted ones. Files are fetched under
// .fetch/ and renamed into place, so a query never sees part of one, and
// processes sharing a mirror (the console and `questlog sql`) only ever
// rename identical copies over each other.
type mirror struct {
	dir   string // local root
	local *store.FileStore
	// have indexes the mirrored files of each table (name → size), read
	// from disk at the table's first refresh and kept since, so a refresh
	// lists only the remote side. Another process sharing the mirror only
	// adds identical files or removes ones deleted remotely, so the index
	// stays right for what it is used for. Files found on disk have size
	// -1: a landed file's name says what it holds (a topic partition's
	// offset range), and fetches are renamed into place whole.
	have map[string]map[string]int64
}

const fetchDir = ".fetch"

// fetchers bounds the files fetched at once.
const fetchers = 4

func newMirror(dir string) (*mirror, error) {
	if err := os.MkdirAll(filepath.Join(dir, fetchDir), 0o755); err != nil {
		return nil, fmt.Errorf("create the lake mirror: %w", err)
	}
	local, err := store.NewFileStore(dir)
	if err != nil {
		return nil, err
	}
	// Fetches a killed process left half done; a live one's are younger.
	if entries, err := os.ReadDir(filepath.Join(dir, fetchDir)); err == nil {
		for _, e := range entries {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
				os.Remove(filepath.Join(dir, fetchDir, e.Name()))
			}
		}
	}
	return &mirror{dir: dir, local: local, have: map[string]map[string]int64{}}, nil
}

// syncStats says what a refresh did.
type syncStats struct {
	fetched, removed int
	bytes            int64
}

// sync makes the mirror's copy of def's files equal the remote's.
func (m *mirror) sync(ctx context.Context, remote store.Store, def tableDef) (syncStats, error) {
	want, err := listFiles(ctx, remote, def)
	if err != nil {
		return syncStats{}, fmt.Errorf("list %s in %s: %w", def.dir, remote.URL(), err)
	}
	haveSize, ok := m.have[def.name]
	if !ok {
		haveSize = map[string]int64{}
		walkLocal(m.dir, def, func(name string) bool {
			haveSize[name] = -1
			return true
		})
		m.have[def.name] = haveSize
	}
	var stats syncStats
	var missing []landedFile
	wanted := make(map[string]bool, len(want))
	for _, f := range want {
		wanted[f.name] = true
		if size, ok := haveSize[f.name]; !ok || size >= 0 && size != f.size {
			missing = append(missing, f)
			stats.bytes += f.size
		}
	}
	for name := range haveSize {
		if !wanted[name] {
			if err := os.Remove(filepath.Join(m.dir, filepath.FromSlash(name))); err != nil && !errors.Is(err, os.ErrNotExist) {
				return stats, err
			}
			delete(haveSize, name)
			stats.removed++
		}
	}
	stats.fetched = len(missing)
	err = m.fetchAll(ctx, remote, missing)
	if err != nil {
		delete(m.have, def.name) // partly fetched: read the disk again next time
		return stats, err
	}
	for _, f := range missing {
		haveSize[f.name] = f.size
	}
	return stats, nil
}

func (m *mirror) fetchAll(ctx context.Context, remote store.Store, files []landedFile) error {
	work := make(chan landedFile)
	errs := make(chan error, fetchers)
	var wg sync.WaitGroup
	for range min(fetchers, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				if err := m.fetch(ctx, remote, f); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
send:
	for _, f := range files {
		select {
		case work <- f:
		case err = <-errs:
			break send
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs
	}
	return err
}

// fetch copies one remote file into place.
func (m *mirror) fetch(ctx context.Context, remote store.Store, f landedFile) error {
	src, err := remote.Open(ctx, f.name)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", f.name, err)
	}
	defer src.Close()
	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := filepath.Join(m.dir, fetchDir, hex.EncodeToString(suffix[:])+".parquet")
	dst, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, io.NewSectionReader(src, 0, src.Size()))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	final := filepath.Join(m.dir, filepath.FromSlash(f.name))
	if err == nil {
		err = os.MkdirAll(filepath.Dir(final), 0o755)
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("fetch %s: %w", f.name, err)
	}
	return nil
}
