package hdfs

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	gohdfs "github.com/colinmarc/hdfs/v2"
	"google.golang.org/protobuf/proto"

	pb "github.com/questlog/questlog/local/hdfs/internal/hdfspb"
)

const (
	exAlreadyBeingCreated = "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException"
	exAlreadyExists       = "org.apache.hadoop.fs.FileAlreadyExistsException"
)

func createReq(src, client string, flags uint32) *pb.CreateRequestProto {
	return &pb.CreateRequestProto{
		Src: proto.String(src), Masked: &pb.FsPermissionProto{Perm: proto.Uint32(0o644)},
		ClientName: proto.String(client), CreateFlag: proto.Uint32(flags), CreateParent: proto.Bool(false),
		Replication: proto.Uint32(1), BlockSize: proto.Uint64(testBlockSize),
	}
}

// remoteException returns the Java exception class of a client error.
func remoteException(err error) string {
	var re interface{ Exception() string }
	if errors.As(err, &re) {
		return re.Exception()
	}
	return ""
}

// Flow: questlog uses an open file as a lock, taken by several processes
// of the same user. Leases are per client, not per user: while the first
// client ("alice") is alive and writing /t/lock, a second client ("bob",
// same user) cannot create, overwrite or append it; once alice closes the
// file, an overwriting create succeeds and a plain one reports that the
// file exists.
func TestLeaseBlocksOtherClients(t *testing.T) {
	s, _, alice := setup(t)
	bob := newClient(t, s.NameNodeAddr(), "alice")
	raw := dialRaw(t, s.NameNodeAddr(), "alice")

	w, err := alice.Create("/t/lock")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("owner=alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.CreateFile("/t/lock", 1, testBlockSize, 0o644); !errors.Is(err, os.ErrExist) {
		t.Errorf("bob CreateFile while alice writes = %v, want ErrExist", err)
	}
	if _, err := bob.Append("/t/lock"); remoteException(err) != exAlreadyBeingCreated {
		t.Errorf("bob Append while alice writes = %v, want %s", err, exAlreadyBeingCreated)
	}
	err = raw.call("create", createReq("/t/lock", "raw-bob", createFlagCreateOverwrite), new(pb.CreateResponseProto))
	wantException(t, err, exAlreadyBeingCreated)
	// The holder itself cannot recreate the file either.
	if _, err := alice.CreateFile("/t/lock", 1, testBlockSize, 0o644); !errors.Is(err, os.ErrExist) {
		t.Errorf("alice re-CreateFile = %v, want ErrExist", err)
	}

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	err = raw.call("create", createReq("/t/lock", "raw-bob", 1), new(pb.CreateResponseProto))
	wantException(t, err, exAlreadyExists)
	var resp pb.CreateResponseProto
	if err := raw.call("create", createReq("/t/lock", "raw-bob", createFlagCreateOverwrite), &resp); err != nil {
		t.Fatalf("overwriting create of a closed file: %v", err)
	}
	if resp.GetFs().GetFileId() == 0 || resp.GetFs().GetLength() != 0 {
		t.Errorf("create response = %v", resp.GetFs())
	}
	// Now raw-bob holds the new, empty file: alice is the one locked out.
	if _, err := alice.Append("/t/lock"); remoteException(err) != exAlreadyBeingCreated {
		t.Errorf("alice Append of bob's file = %v", err)
	}
	// After bob closes it, alice can remove and recreate it.
	if err := raw.call("complete", &pb.CompleteRequestProto{Src: proto.String("/t/lock"), ClientName: proto.String("raw-bob")}, new(pb.CompleteResponseProto)); err != nil {
		t.Fatal(err)
	}
	if err := alice.Remove("/t/lock"); err != nil {
		t.Fatal(err)
	}
	if err := create(bob, "/t/lock"); err != nil {
		t.Fatalf("create after remove: %v", err)
	}
}

const createFlagCreateOverwrite = 1 | 2

// Flow: alice's process goes away in the middle of a write without closing
// the file. With a soft limit of 1ns her lease is expired as soon as she
// stops renewing, so bob's append recovers the file: it is closed at the
// length the DataNode acknowledged (at least the two committed blocks,
// at most what was written), holds a prefix of alice's bytes, and bob can
// append after it.
func TestLeaseSoftLimitTakeover(t *testing.T) {
	s, _, _ := setup(t, func(c *Config) { c.LeaseSoftLimit = time.Nanosecond })
	alice, err := gohdfs.NewClient(gohdfs.ClientOptions{Addresses: []string{s.NameNodeAddr()}, User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(2*testBlockSize+300_000, 11)
	w, err := alice.Create("/t/abandoned")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	alice.Close() // the client is gone; the file is still open

	bob := newClient(t, s.NameNodeAddr(), "alice")
	if _, err := bob.CreateFile("/t/abandoned", 1, testBlockSize, 0o644); !errors.Is(err, os.ErrExist) {
		t.Fatalf("create over a recovered file = %v, want ErrExist (it is closed now)", err)
	}
	got, err := bob.ReadFile("/t/abandoned")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 2*testBlockSize || len(got) > len(data) || !bytes.Equal(got, data[:len(got)]) {
		t.Fatalf("recovered file has %d bytes (prefix %v), want a prefix of the %d written with at least %d",
			len(got), bytes.Equal(got, data[:min(len(got), len(data))]), len(data), 2*testBlockSize)
	}
	aw, err := bob.Append("/t/abandoned")
	if err != nil {
		t.Fatalf("Append after recovery: %v", err)
	}
	if _, err := aw.Write([]byte("bob")); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	final, err := bob.ReadFile("/t/abandoned")
	if err != nil || !bytes.Equal(final, append(got, "bob"...)) {
		t.Fatalf("after append: %d bytes, %v", len(final), err)
	}
	// A late write from the dead writer's stream cannot change the file.
	if _, err := w.Write([]byte("late")); err == nil {
		if err := w.Close(); err == nil {
			t.Error("the recovered writer could still close the file")
		}
	}
	if again, _ := bob.ReadFile("/t/abandoned"); !bytes.Equal(again, final) {
		t.Error("the recovered writer changed the file")
	}
}

// Flow: recoverLease forces recovery of a file whose writer is alive.
func TestRecoverLease(t *testing.T) {
	s, _, alice := setup(t)
	w, err := alice.Create("/t/held")
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(testBlockSize+10, 2)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	raw := dialRaw(t, s.NameNodeAddr(), "alice")
	var resp pb.RecoverLeaseResponseProto
	if err := raw.call("recoverLease", &pb.RecoverLeaseRequestProto{Src: proto.String("/t/held"), ClientName: proto.String("admin-tool")}, &resp); err != nil {
		t.Fatal(err)
	}
	if !resp.GetResult() {
		t.Fatal("recoverLease = false")
	}
	if err := w.Close(); err == nil {
		t.Error("Close by the overruled writer succeeded")
	}
	got, err := alice.ReadFile("/t/held")
	if err != nil || len(got) < testBlockSize || !bytes.Equal(got, data[:len(got)]) {
		t.Fatalf("recovered: %d bytes, %v", len(got), err)
	}
}
