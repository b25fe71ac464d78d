package hdfs

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/internal/testenv"
)

// These tests drive Debian's hdfs CLI (package hdfs-cli: colinmarc/hdfs
// v2.3.0, which writes CRC32 checksums, where the v2.4.0 library writes
// CRC32C). The binary is required: install it with apt-get install hdfs-cli.

type cli struct {
	t   *testing.T
	bin string
	env []string
}

func newCLI(t *testing.T, addr, user string) *cli {
	t.Helper()
	bin := "/usr/bin/hdfs"
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.Need(t, "hdfs", "apt-get install hdfs-cli (Debian's package of colinmarc/hdfs v2.3.0)")
	}
	conf := t.TempDir() // an empty HADOOP_CONF_DIR: no real cluster config leaks in
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HADOOP_") {
			env = append(env, kv)
		}
	}
	env = append(env, "HADOOP_NAMENODE="+addr, "HADOOP_USER_NAME="+user, "HADOOP_CONF_DIR="+conf)
	return &cli{t: t, bin: bin, env: env}
}

// run executes the CLI and returns stdout, stderr and the exit error.
func (c *cli) run(args ...string) (string, string, error) {
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start hdfs %v: %v", args, err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), errb.String(), err
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		c.t.Fatalf("hdfs %v did not finish within 30s; stderr: %s", args, errb.String())
		return "", "", nil
	}
}

func (c *cli) must(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("hdfs %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (c *cli) mustFail(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err == nil {
		c.t.Fatalf("hdfs %s succeeded, want failure; stdout: %s", strings.Join(args, " "), out)
	}
	return errOut
}

func TestCLI(t *testing.T) {
	s, admin, alice := setup(t)
	sh := newCLI(t, s.NameNodeAddr(), "alice")
	local := t.TempDir()
	big := randomBytes(2*testBlockSize+testBlockSize/2+17, 42)
	bigPath := filepath.Join(local, "big.bin")
	if err := os.WriteFile(bigPath, big, 0o644); err != nil {
		t.Fatal(err)
	}

	sh.must("mkdir", "-p", "/t/a/b/c")
	if out := sh.must("ls", "/t/a/b"); strings.TrimSpace(out) != "c" {
		t.Errorf("ls /t/a/b = %q, want c", out)
	}
	sh.must("mkdir", "-p", "/t/a/b/c") // existing: still fine

	// put (CRC32 writes across block boundaries), then read back three ways.
	sh.must("put", bigPath, "/t/a/big.bin")
	if out := sh.must("cat", "/t/a/big.bin"); out != string(big) {
		t.Fatalf("cat returned %d bytes that differ from the %d put", len(out), len(big))
	}
	got := filepath.Join(local, "got.bin")
	sh.must("get", "/t/a/big.bin", got)
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, big) {
		t.Fatalf("get: %v, equal %v", err, bytes.Equal(b, big))
	}
	if b, err := alice.ReadFile("/t/a/big.bin"); err != nil || !bytes.Equal(b, big) {
		t.Fatalf("v2.4 client reading a CRC32 file: %v", err)
	}
	if out := sh.must("head", "-c", "1000", "/t/a/big.bin"); out != string(big[:1000]) {
		t.Errorf("head -c 1000 differs")
	}
	if out := sh.must("tail", "-c", "100", "/t/a/big.bin"); out != string(big[len(big)-100:]) {
		t.Errorf("tail -c 100 differs")
	}

	// A CRC32C file from the v2.4 library read by the v2.3 CLI.
	small := []byte("written by the v2.4 library\n")
	writeFile(t, alice, "/t/a/small.txt", small, 100)
	if out := sh.must("cat", "/t/a/small.txt"); out != string(small) {
		t.Errorf("cat small.txt = %q", out)
	}

	// ls -l shows sizes and modes.
	out := sh.must("ls", "-l", "/t/a")
	for _, want := range []string{"big.bin", strconv.Itoa(len(big)), "small.txt", "drwxr-xr-x", "-rw-r--r--", "alice"} {
		if !strings.Contains(out, want) {
			t.Errorf("ls -l /t/a lacks %q:\n%s", want, out)
		}
	}

	// mv: rename, move into a directory, onto an existing file, -n refuses.
	sh.must("mv", "/t/a/small.txt", "/t/a/renamed.txt")
	sh.must("mv", "/t/a/renamed.txt", "/t/a/b")
	if b, _ := alice.ReadFile("/t/a/b/renamed.txt"); !bytes.Equal(b, small) {
		t.Errorf("mv into a directory lost the file")
	}
	writeFile(t, alice, "/t/a/other.txt", []byte("other"), 5)
	sh.mustFail("mv", "-n", "/t/a/other.txt", "/t/a/b/renamed.txt")
	sh.must("mv", "/t/a/other.txt", "/t/a/b/renamed.txt")
	if b, _ := alice.ReadFile("/t/a/b/renamed.txt"); string(b) != "other" {
		t.Errorf("mv onto a file: %q", b)
	}
	if msg := sh.mustFail("mv", "/t/missing", "/t/x"); !strings.Contains(msg, "file does not exist") {
		t.Errorf("mv missing: stderr %q", msg)
	}

	// du and df.
	out = sh.must("du", "-s", "/t/a")
	if f := strings.Fields(out); len(f) < 2 || f[0] != strconv.Itoa(len(big)+5) {
		t.Errorf("du -s /t/a = %q, want %d", out, len(big)+5)
	}
	if out = sh.must("du", "/t/a"); !strings.Contains(out, "big.bin") {
		t.Errorf("du /t/a = %q", out)
	}
	if out = sh.must("df"); !strings.Contains(out, "Filesystem") || !strings.Contains(out, s.NameNodeAddr()) {
		t.Errorf("df = %q", out)
	}

	// touch: a new empty file, then an existing path gets a new mtime.
	sh.must("touch", "/t/a/new")
	fi, err := alice.Stat("/t/a/new")
	if err != nil || fi.Size() != 0 {
		t.Fatalf("touch new: %v", err)
	}
	if err := alice.Chtimes("/t/a/b", time.Unix(1000, 0), time.Unix(1000, 0)); err != nil {
		t.Fatal(err)
	}
	sh.must("touch", "/t/a/b")
	if fi, _ := alice.Stat("/t/a/b"); fi.ModTime().Unix() <= 1000 {
		t.Errorf("touch of an existing dir kept mtime %v", fi.ModTime())
	}

	// chmod, and chown as the superuser.
	sh.must("chmod", "700", "/t/a/new")
	if fi, _ := alice.Stat("/t/a/new"); fi.Mode().Perm() != 0o700 {
		t.Errorf("chmod 700: mode %v", fi.Mode())
	}
	sh.mustFail("chown", "bob", "/t/a/new") // alice is not the superuser
	newCLI(t, s.NameNodeAddr(), testSuperuser).must("chown", "bob:staff", "/t/a/new")
	if out := sh.must("ls", "-l", "/t/a/new"); !strings.Contains(out, "bob") || !strings.Contains(out, "staff") {
		t.Errorf("after chown: %q", out)
	}

	// checksum (DataNode op 85) agrees with the library's.
	out = sh.must("checksum", "/t/a/big.bin")
	f, err := admin.Open("/t/a/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := f.Checksum()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, hex.EncodeToString(sum)) {
		t.Errorf("checksum = %q, library says %x", out, sum)
	}

	// rm: -r of a tree, a missing path fails, -f of a missing path does not.
	sh.mustFail("rm", "/t/a/b")
	sh.must("rm", "-r", "/t/a/b")
	if _, err := alice.Stat("/t/a/b"); !os.IsNotExist(err) {
		t.Errorf("rm -r left /t/a/b: %v", err)
	}
	sh.mustFail("rm", "/t/a/missing")
	sh.must("rm", "-f", "/t/a/missing")
	out = sh.must("ls", "/t/a")
	if strings.Fields(out)[0] != "big.bin" || len(strings.Fields(out)) != 2 {
		t.Errorf("ls /t/a at the end = %q, want big.bin and new", out)
	}
}
