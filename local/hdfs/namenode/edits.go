package namenode

import (
	"encoding/json"
	"fmt"
	"io"
)

// editOp is one namespace change as written to the edit log. apply mutates
// the namespace; it runs for live RPCs (after validation) and for replay at
// startup, so it must depend only on its fields and the namespace. Each op
// type lives next to the RPC that produces it and registers in init().
type editOp interface {
	apply(nn *NameNode) error
}

var editTypes = map[string]func() editOp{}
var editNames = map[string]string{} // Go type name -> op name

// registerEdit adds an edit op type under a stable name used in the log.
func registerEdit(name string, newOp func() editOp) {
	if _, dup := editTypes[name]; dup {
		panic(fmt.Sprintf("namenode: edit op %q registered twice", name))
	}
	editTypes[name] = newOp
	editNames[fmt.Sprintf("%T", newOp())] = name
}

func editName(op editOp) string {
	name, ok := editNames[fmt.Sprintf("%T", op)]
	if !ok {
		panic(fmt.Sprintf("namenode: edit op %T not registered", op))
	}
	return name
}

// txn collects the edits of one RPC.
type txn struct {
	nn    *NameNode
	last  uint64
	after []func()
}

// log appends op to the edit log and applies it.
func (t *txn) log(op editOp) error {
	name := editName(op)
	tx, err := t.nn.journal.append(name, op)
	if err != nil {
		return errIO("cannot record change: %v", err)
	}
	t.last = tx
	if err := op.apply(t.nn); err != nil {
		t.nn.journal.fail(fmt.Errorf("apply %s: %w", name, err))
		t.nn.log.Error("namenode: cannot apply edit; refusing further changes", "op", name, "err", err)
		return errIO("cannot apply change: %v", err)
	}
	return nil
}

// afterSync runs f once the transaction is durable and the lock released,
// e.g. to delete replicas of removed blocks.
func (t *txn) afterSync(f func()) { t.after = append(t.after, f) }

// mutate runs fn under the namespace lock. Edits fn logs are durable before
// mutate returns, even when fn then fails.
func (nn *NameNode) mutate(fn func(t *txn) error) error {
	nn.mu.Lock()
	t := &txn{nn: nn}
	err := fn(t)
	needCheckpoint := t.last != 0 && nn.journal.pending() >= nn.cfg.CheckpointEvery
	nn.mu.Unlock()
	if t.last != 0 {
		if serr := nn.journal.sync(t.last); serr != nil {
			return errIO("cannot record change: %v", serr)
		}
	}
	for _, f := range t.after {
		f()
	}
	if needCheckpoint {
		if cerr := nn.checkpoint(); cerr != nil {
			nn.log.Error("namenode: checkpoint failed", "err", cerr)
		}
	}
	return err
}

// checkpoint writes a new image and empties the edit log.
func (nn *NameNode) checkpoint() error {
	nn.mu.Lock()
	defer nn.mu.Unlock()
	if err := nn.journal.checkpoint(func(w io.Writer, lastTx uint64) error { return nn.ns.writeImage(w, lastTx) }); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	nn.log.Debug("namenode: checkpoint written", "inodes", len(nn.ns.inodes))
	return nil
}

// replay applies edit records read at startup.
func (nn *NameNode) replay(recs []record) error {
	for _, r := range recs {
		newOp, ok := editTypes[r.Op]
		if !ok {
			return fmt.Errorf("edit log transaction %d: unknown op %q", r.Tx, r.Op)
		}
		op := newOp()
		if err := json.Unmarshal(r.Data, op); err != nil {
			return fmt.Errorf("edit log transaction %d: decode %s: %w", r.Tx, r.Op, err)
		}
		if err := op.apply(nn); err != nil {
			return fmt.Errorf("edit log transaction %d: apply %s: %w", r.Tx, r.Op, err)
		}
	}
	return nil
}
