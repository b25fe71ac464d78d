package hdfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	gohdfs "github.com/colinmarc/hdfs/v2"
)

// Contract tests: the real colinmarc/hdfs/v2 client (v2.4.0, CRC32C
// writes) against the emulator on loopback, 1 MiB blocks.

func TestWriteReadSizes(t *testing.T) {
	_, _, c := setup(t)
	sizes := []int{0, 1, 511, 512, 513, 64<<10 + 1, testBlockSize - 1, testBlockSize, testBlockSize + 1, 3*testBlockSize + testBlockSize/2}
	for i, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			data := randomBytes(n, uint64(i))
			name := fmt.Sprintf("/t/f%d", n)
			writeFile(t, c, name, data, 100_000)
			fi, err := c.Stat(name)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if fi.Size() != int64(n) || fi.IsDir() || fi.Name() != fmt.Sprintf("f%d", n) {
				t.Fatalf("Stat = size %d dir %v name %q, want %d, false, f%d", fi.Size(), fi.IsDir(), fi.Name(), n, n)
			}
			got, err := c.ReadFile(name)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("ReadFile returned %d bytes that differ from the %d written", len(got), n)
			}
		})
	}
}

func TestFileBlocksMatchBlockSize(t *testing.T) {
	_, _, c := setup(t)
	// A per-file block size different from the server default.
	data := randomBytes(5*512*1024+7, 9)
	w, err := c.CreateFile("/t/small-blocks", 1, 512*1024, 0o640)
	if err != nil {
		t.Fatalf("CreateFile: %v", err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	fi, err := c.Stat("/t/small-blocks")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", fi.Mode())
	}
	if bs := fi.Sys().(*gohdfs.FileStatus).GetBlocksize(); bs != 512*1024 {
		t.Errorf("block size = %d, want %d", bs, 512*1024)
	}
	got, err := c.ReadFile("/t/small-blocks")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadFile: err %v, equal %v", err, bytes.Equal(got, data))
	}
}

func TestReadAtAndSeek(t *testing.T) {
	_, _, c := setup(t)
	data := randomBytes(3*testBlockSize+12345, 7)
	writeFile(t, c, "/t/big", data, 1<<20)
	f, err := c.Open("/t/big")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer f.Close()
	for _, r := range []struct{ off, n int }{
		{0, 1}, {1, 1000}, {511, 2}, {testBlockSize - 3, 10}, {testBlockSize, 513},
		{2*testBlockSize - 100000, 300000}, {len(data) - 1, 1}, {len(data) - 70000, 70000}, {12345, 1 << 20},
	} {
		buf := make([]byte, r.n)
		n, err := f.ReadAt(buf, int64(r.off))
		if err != nil && !(errors.Is(err, io.EOF) && n == r.n) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", r.off, r.n, n, err)
		}
		if !bytes.Equal(buf[:n], data[r.off:r.off+r.n]) {
			t.Fatalf("ReadAt(%d, %d) returned wrong bytes", r.off, r.n)
		}
	}
	buf := make([]byte, 10)
	if _, err := f.ReadAt(buf, int64(len(data))-5); !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt past the end: err = %v, want io.EOF", err)
	}
	cur := int64(0) // position after the previous read
	for _, s := range []struct {
		off    int64
		whence int
	}{
		{100, io.SeekStart},
		{testBlockSize, io.SeekCurrent},
		{-5000, io.SeekEnd},
		{77 - (int64(len(data)) - 4990), io.SeekCurrent},
		{30, io.SeekCurrent},
		{0, io.SeekStart},
	} {
		want := s.off
		switch s.whence {
		case io.SeekCurrent:
			want += cur
		case io.SeekEnd:
			want += int64(len(data))
		}
		pos, err := f.Seek(s.off, s.whence)
		if err != nil || pos != want {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", s.off, s.whence, pos, err, want)
		}
		if _, err := io.ReadFull(f, buf); err != nil {
			t.Fatalf("read after Seek: %v", err)
		}
		if !bytes.Equal(buf, data[pos:pos+10]) {
			t.Fatalf("read after Seek to %d returned wrong bytes", pos)
		}
		cur = pos + 10
	}
}

func TestFlushUnalignedPackets(t *testing.T) {
	_, _, c := setup(t)
	var data []byte
	w, err := c.Create("/t/flushed")
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range []int{1, 700, 511, 3000, 70000, 100, 1 << 20, 5} {
		part := randomBytes(n, uint64(i))
		if _, err := w.Write(part); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if err := w.Flush(); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		data = append(data, part...)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got, err := c.ReadFile("/t/flushed")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadFile: err %v, %d bytes, equal %v", err, len(got), bytes.Equal(got, data))
	}
}

func TestAppend(t *testing.T) {
	_, _, c := setup(t)
	for _, tc := range []struct {
		name          string
		initial, more int
	}{
		{"empty", 0, 1000},
		{"partial-block", 1000, 3000},
		{"unaligned-across-block", testBlockSize - 100, 5000},
		{"full-block", testBlockSize, 10},
		{"no-data", 777, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "/t/append-" + tc.name
			data := randomBytes(tc.initial+tc.more, 3)
			writeFile(t, c, name, data[:tc.initial], 1<<16)
			w, err := c.Append(name)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if _, err := w.Write(data[tc.initial:]); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			got, err := c.ReadFile(name)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("ReadFile: err %v, %d bytes (want %d), equal %v", err, len(got), len(data), bytes.Equal(got, data))
			}
		})
	}
	if _, err := c.Append("/t/missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Append(missing) = %v, want ErrNotExist", err)
	}
}

func TestReadDirPaging(t *testing.T) {
	s, _, c := setup(t)
	const n = 2000
	if err := c.Mkdir("/t/many", 0o755); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		// One client per goroutine: a client sends one call at a time,
		// and separate connections let the edit log batch fsyncs.
		c := newClient(t, s.NameNodeAddr(), "alice")
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < n; i += 8 {
				name := fmt.Sprintf("/t/many/f%04d", i)
				var err error
				if i%2 == 0 {
					err = c.Mkdir(name, 0o755)
				} else {
					err = c.CreateEmptyFile(name)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("populate: %v", err)
	}
	infos, err := c.ReadDir("/t/many")
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	if len(infos) != n {
		t.Fatalf("ReadDir returned %d entries, want %d", len(infos), n)
	}
	for i, fi := range infos {
		if want := fmt.Sprintf("f%04d", i); fi.Name() != want || fi.IsDir() != (i%2 == 0) {
			t.Fatalf("entry %d = %q dir=%v, want %q dir=%v", i, fi.Name(), fi.IsDir(), want, i%2 == 0)
		}
	}
	// Readdir in small batches resumes after the last name it kept.
	f, err := c.Open("/t/many")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for {
		batch, err := f.Readdir(333)
		for _, fi := range batch {
			names = append(names, fi.Name())
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Readdir: %v", err)
		}
	}
	if len(names) != n || !sort.StringsAreSorted(names) {
		t.Fatalf("Readdir(333) loop returned %d names (sorted %v), want %d", len(names), sort.StringsAreSorted(names), n)
	}
	if _, err := c.ReadDir("/t/nope"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadDir(missing) = %v, want ErrNotExist", err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	s, _, c := setup(t)
	other := newClient(t, s.NameNodeAddr(), "alice")
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	files := map[string][]byte{}
	for i := 0; i < 6; i++ {
		files[fmt.Sprintf("/t/concurrent%d", i)] = randomBytes(2*testBlockSize+i*70001, uint64(100+i))
	}
	i := 0
	for name, data := range files {
		cl := c
		if i%2 == 1 {
			cl = other
		}
		i++
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := cl.Create(name)
			if err != nil {
				errs <- err
				return
			}
			for off := 0; off < len(data); off += 50000 {
				if _, err := w.Write(data[off:min(off+50000, len(data))]); err != nil {
					errs <- err
					return
				}
			}
			errs <- w.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
	for name, data := range files {
		got, err := c.ReadFile(name)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("ReadFile(%s): err %v, equal %v", name, err, bytes.Equal(got, data))
		}
	}
}

func TestErrorMapping(t *testing.T) {
	s, admin, c := setup(t)
	writeFile(t, c, "/t/file", []byte("x"), 1)
	if err := c.Mkdir("/t/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, c, "/t/dir/child", []byte("y"), 1)
	if err := admin.Mkdir("/private", 0o700); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"Stat missing", stat(c, "/t/missing"), os.ErrNotExist},
		{"Open missing", open(c, "/t/missing"), os.ErrNotExist},
		{"Remove missing", c.Remove("/t/missing"), os.ErrNotExist},
		{"Rename missing", c.Rename("/t/missing", "/t/other"), os.ErrNotExist},
		{"Rename into missing dir", c.Rename("/t/file", "/t/nodir/file"), os.ErrNotExist},
		{"Chmod missing", c.Chmod("/t/missing", 0o644), os.ErrNotExist},
		{"Chown missing", c.Chown("/t/missing", "bob", ""), os.ErrNotExist},
		{"Chtimes missing", c.Chtimes("/t/missing", time.Now(), time.Now()), os.ErrNotExist},
		{"GetContentSummary missing", summary(c, "/t/missing"), os.ErrNotExist},
		{"Mkdir under missing", c.Mkdir("/t/missing/sub", 0o755), os.ErrNotExist},
		{"Create under missing", create(c, "/t/missing/f"), os.ErrNotExist},
		{"Mkdir existing dir", c.Mkdir("/t/dir", 0o755), os.ErrExist},
		{"Mkdir existing file", c.Mkdir("/t/file", 0o755), os.ErrExist},
		{"Create existing", create(c, "/t/file"), os.ErrExist},
		{"CreateFile existing", createFile(c, "/t/file"), os.ErrExist},
		{"CreateFile over dir", createFile(c, "/t/dir"), os.ErrExist},
		{"Remove non-empty dir", c.Remove("/t/dir"), syscall.ENOTEMPTY},
		{"Create in other's dir", create(c, "/private/f"), os.ErrPermission},
		{"Mkdir in root", c.Mkdir("/alice", 0o755), os.ErrPermission},
		{"Chmod other's", c.Chmod("/private", 0o777), os.ErrPermission},
		{"Chown by non-superuser", c.Chown("/t/file", "bob", ""), os.ErrPermission},
		{"Remove in other's dir", c.Remove("/private"), os.ErrPermission},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if err := c.RemoveAll("/t/missing"); err != nil {
		t.Errorf("RemoveAll(missing) = %v, want nil", err)
	}
	// Paths through a file and invalid paths give errors, never success.
	if err := c.MkdirAll("/t/file/sub", 0o755); err == nil {
		t.Error("MkdirAll under a file succeeded")
	}
	if _, err := c.Stat("/t/../etc"); err == nil {
		t.Error("Stat of a path with .. succeeded")
	}
	// rename2 without overwrite (not reachable through the Go client).
	rc := dialRaw(t, s.NameNodeAddr(), "alice")
	writeFile(t, c, "/t/other", []byte("z"), 1)
	err := rc.call("rename2", renameReq("/t/file", "/t/other", false), new(renameResp))
	wantException(t, err, "org.apache.hadoop.fs.FileAlreadyExistsException")
	if got, _ := c.ReadFile("/t/other"); string(got) != "z" {
		t.Errorf("destination changed by a refused rename: %q", got)
	}
}

func stat(c *gohdfs.Client, name string) error { _, err := c.Stat(name); return err }
func open(c *gohdfs.Client, name string) error {
	f, err := c.Open(name)
	if err == nil {
		f.Close()
	}
	return err
}
func summary(c *gohdfs.Client, name string) error { _, err := c.GetContentSummary(name); return err }
func create(c *gohdfs.Client, name string) error {
	w, err := c.Create(name)
	if err == nil {
		return w.Close()
	}
	return err
}
func createFile(c *gohdfs.Client, name string) error {
	w, err := c.CreateFile(name, 1, testBlockSize, 0o644)
	if err == nil {
		return w.Close()
	}
	return err
}

func TestRenameAndRemove(t *testing.T) {
	_, _, c := setup(t)
	writeFile(t, c, "/t/a", []byte("aaa"), 10)
	writeFile(t, c, "/t/b", []byte("bbb"), 10)
	// Onto an existing file: the Go client always asks to overwrite.
	if err := c.Rename("/t/a", "/t/b"); err != nil {
		t.Fatalf("Rename onto file: %v", err)
	}
	if got, _ := c.ReadFile("/t/b"); string(got) != "aaa" {
		t.Errorf("after rename /t/b = %q, want aaa", got)
	}
	if _, err := c.Stat("/t/a"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("source still there: %v", err)
	}
	// Directories: onto an empty one works, onto a non-empty one does not,
	// and file/dir mismatches are refused.
	for _, d := range []string{"/t/d1", "/t/d2", "/t/d3"} {
		if err := c.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, c, "/t/d1/x", []byte("x"), 1)
	writeFile(t, c, "/t/d3/y", []byte("y"), 1)
	if err := c.Rename("/t/d1", "/t/d2"); err != nil {
		t.Fatalf("Rename dir onto empty dir: %v", err)
	}
	if got, _ := c.ReadFile("/t/d2/x"); string(got) != "x" {
		t.Errorf("moved file = %q", got)
	}
	if err := c.Rename("/t/d2", "/t/d3"); err == nil {
		t.Error("Rename onto non-empty dir succeeded")
	}
	if err := c.Rename("/t/b", "/t/d3"); err == nil {
		t.Error("Rename file onto dir succeeded")
	}
	if err := c.Rename("/t/d3", "/t/d3/sub"); err == nil {
		t.Error("Rename dir under itself succeeded")
	}
	// Removing.
	if err := c.Remove("/t/b"); err != nil {
		t.Fatalf("Remove file: %v", err)
	}
	if err := c.Remove("/t/d3"); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Fatalf("Remove non-empty = %v", err)
	}
	if err := c.RemoveAll("/t/d3"); err != nil {
		t.Fatalf("RemoveAll: %v", err)
	}
	if err := c.Remove("/t/d2/x"); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove("/t/d2"); err != nil {
		t.Fatalf("Remove empty dir: %v", err)
	}
	infos, err := c.ReadDir("/t")
	if err != nil || len(infos) != 0 {
		t.Fatalf("ReadDir(/t) = %d entries, %v; want empty", len(infos), err)
	}
}

func TestRenameOpenFile(t *testing.T) {
	_, _, c := setup(t)
	data := randomBytes(testBlockSize+500, 5)
	w, err := c.Create("/t/open")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:testBlockSize+100]); err != nil {
		t.Fatal(err)
	}
	// The writer identifies the file by fileId, so the lease follows it.
	if err := c.Rename("/t/open", "/t/moved"); err != nil {
		t.Fatalf("Rename open file: %v", err)
	}
	if _, err := w.Write(data[testBlockSize+100:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close after rename: %v", err)
	}
	got, err := c.ReadFile("/t/moved")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadFile: %v, equal %v", err, bytes.Equal(got, data))
	}
}

func TestVisibilityWhileWriting(t *testing.T) {
	_, _, c := setup(t)
	w, err := c.Create("/t/growing")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := c.Stat("/t/growing")
	if err != nil || fi.Size() != 0 {
		t.Fatalf("Stat right after create = %v, %v; want size 0", fi, err)
	}
	data := randomBytes(2*testBlockSize+10, 1)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	// The first two blocks are committed (the writer moved to a third);
	// the open block is not visible yet.
	fi, err = c.Stat("/t/growing")
	if err != nil || fi.Size() != 2*testBlockSize {
		t.Fatalf("Stat while writing: size %d, %v; want %d", fi.Size(), err, 2*testBlockSize)
	}
	got, err := c.ReadFile("/t/growing")
	if err != nil || !bytes.Equal(got, data[:2*testBlockSize]) {
		t.Fatalf("reading an open file: %d bytes, %v", len(got), err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := c.Stat("/t/growing"); fi.Size() != int64(len(data)) {
		t.Fatalf("size after close = %d", fi.Size())
	}
}

func TestChmodChownChtimes(t *testing.T) {
	_, admin, c := setup(t)
	writeFile(t, c, "/t/f", []byte("hello"), 5)
	if err := c.Chmod("/t/f", 0o777); err != nil {
		t.Fatal(err)
	}
	if fi, _ := c.Stat("/t/f"); fi.Mode() != 0o777 {
		t.Errorf("Mode = %v, want 0777", fi.Mode())
	}
	if err := c.Mkdir("/t/d", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.Chmod("/t/d", os.ModeDir|0o751); err != nil {
		t.Fatal(err)
	}
	if fi, _ := c.Stat("/t/d"); fi.Mode() != os.ModeDir|0o751 {
		t.Errorf("dir Mode = %v, want drwxr-x--x", fi.Mode())
	}
	if err := admin.Chown("/t/f", "bob", "staff"); err != nil {
		t.Fatal(err)
	}
	fi, _ := c.Stat("/t/f")
	st := fi.Sys().(*gohdfs.FileStatus)
	if st.GetOwner() != "bob" || st.GetGroup() != "staff" {
		t.Errorf("owner:group = %s:%s, want bob:staff", st.GetOwner(), st.GetGroup())
	}
	if err := admin.Chown("/t/f", "", "wheel"); err != nil {
		t.Fatal(err)
	}
	fi, _ = c.Stat("/t/f")
	if st := fi.Sys().(*gohdfs.FileStatus); st.GetOwner() != "bob" || st.GetGroup() != "wheel" {
		t.Errorf("empty owner changed it: %s:%s", st.GetOwner(), st.GetGroup())
	}
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	atime := time.Date(2021, 6, 7, 8, 9, 10, 0, time.UTC)
	if err := c.Chtimes("/t/d", atime, mtime); err != nil {
		t.Fatal(err)
	}
	fi, _ = c.Stat("/t/d")
	if !fi.ModTime().Equal(mtime) || !fi.(*gohdfs.FileInfo).AccessTime().Equal(atime) {
		t.Errorf("times = %v / %v, want %v / %v", fi.ModTime(), fi.(*gohdfs.FileInfo).AccessTime(), mtime, atime)
	}
}

func TestStatFsAndContentSummary(t *testing.T) {
	_, _, c := setup(t)
	if err := c.MkdirAll("/t/cs/a/b", 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, c, "/t/cs/one", randomBytes(1000, 1), 1000)
	writeFile(t, c, "/t/cs/a/two", randomBytes(testBlockSize+1, 2), 1<<20)
	writeFile(t, c, "/t/cs/a/b/three", nil, 1)
	cs, err := c.GetContentSummary("/t/cs")
	if err != nil {
		t.Fatal(err)
	}
	if cs.Size() != 1000+testBlockSize+1 || cs.FileCount() != 3 || cs.DirectoryCount() != 3 ||
		cs.SizeAfterReplication() != cs.Size() || cs.NameQuota() != -1 || cs.SpaceQuota() != -1 {
		t.Errorf("summary = size %d files %d dirs %d space %d quota %d/%d",
			cs.Size(), cs.FileCount(), cs.DirectoryCount(), cs.SizeAfterReplication(), cs.NameQuota(), cs.SpaceQuota())
	}
	cs, err = c.GetContentSummary("/t/cs/one")
	if err != nil || cs.FileCount() != 1 || cs.DirectoryCount() != 0 || cs.Size() != 1000 {
		t.Errorf("file summary = %+v, %v", cs, err)
	}
	fs, err := c.StatFs()
	if err != nil {
		t.Fatal(err)
	}
	if fs.Capacity == 0 || fs.Used < 1000+testBlockSize+1 || fs.Remaining == 0 || fs.Remaining > fs.Capacity {
		t.Errorf("StatFs = %+v", fs)
	}
}

func TestServerDefaults(t *testing.T) {
	s, _ := newServer(t, func(c *Config) { c.BlockSize = 4 << 20 })
	c := newClient(t, s.NameNodeAddr(), "alice")
	d, err := c.ServerDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if d.BlockSize != 4<<20 || d.Replication != 1 || d.EncryptDataTransfer {
		t.Errorf("ServerDefaults = %+v", d)
	}
}
