package namenode

import (
	"sort"
	"time"
)

// Leases are keyed by client name (never by connection): create and append
// grant one, renewLease refreshes every file of a holder, complete, delete
// and overwrite release it. The holder of a file is journaled (inode.client);
// renewal times are not, because at startup every open file is recovered.
//
// Limits, as in HDFS: past the soft limit another client's create, append
// or recoverLease recovers the file first; past the hard limit the NameNode
// recovers it by itself.
//
// Recovery revokes the last block's write permission, has the DataNode stop
// its writer and finalize the replica at the length it acknowledged, and
// closes the file with that length. An empty last block is dropped. It is
// synchronous, so callers never see RecoveryInProgressException.

type lease struct {
	holder  string
	renewed time.Time
	files   map[uint64]struct{}
}

type leases struct {
	byHolder map[string]*lease
}

func (l *leases) add(holder string, file uint64, now time.Time) {
	if l.byHolder == nil {
		l.byHolder = map[string]*lease{}
	}
	ls := l.byHolder[holder]
	if ls == nil {
		ls = &lease{holder: holder, files: map[uint64]struct{}{}}
		l.byHolder[holder] = ls
	}
	ls.renewed = now
	ls.files[file] = struct{}{}
}

func (l *leases) remove(holder string, file uint64) {
	ls := l.byHolder[holder]
	if ls == nil {
		return
	}
	delete(ls.files, file)
	if len(ls.files) == 0 {
		delete(l.byHolder, holder)
	}
}

func (l *leases) renew(holder string, now time.Time) {
	if ls := l.byHolder[holder]; ls != nil {
		ls.renewed = now
	}
}

// softExpired reports whether holder has not renewed within the soft limit.
func (nn *NameNode) softExpired(holder string) bool {
	ls := nn.leases.byHolder[holder]
	return ls == nil || nn.now().Sub(ls.renewed) > nn.cfg.LeaseSoftLimit
}

// recoverFile closes a file whose writer is gone or overruled. It runs under
// the namespace lock inside a transaction.
func (nn *NameNode) recoverFile(t *txn, f *inode, reason string) error {
	op := &opClose{ID: f.id, LastLen: -1, Time: nn.nowMillis()}
	if last := f.lastBlock(); last != nil && !last.committed {
		nn.gate.revoke(last.id)
		n, err := nn.replicas.RecoverReplica(last.id)
		if err != nil {
			return errIO("recover %s: %v", f.path(), err)
		}
		switch {
		case n == 0 && last.numBytes == 0:
			op.DropLast = true
			id := last.id
			t.afterSync(func() { nn.replicas.DeleteReplicas([]uint64{id}) })
		case n < last.numBytes:
			nn.log.Error("namenode: replica shorter than its committed length", "path", f.path(), "block", last.id, "replica", n, "committed", last.numBytes)
			op.LastLen = last.numBytes
		default:
			op.LastLen = n
		}
	}
	holder := f.client
	if err := t.log(op); err != nil {
		return err
	}
	nn.log.Info("namenode: recovered lease", "path", f.path(), "holder", holder, "reason", reason, "length", f.length())
	return nil
}

// monitorLeases recovers files whose holder passed the hard limit.
func (nn *NameNode) monitorLeases(stop <-chan struct{}) {
	interval := min(max(nn.cfg.LeaseHardLimit/4, 10*time.Millisecond), 10*time.Second)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if err := nn.recoverHardExpired(); err != nil {
				nn.log.Warn("namenode: lease recovery failed", "err", err)
			}
		}
	}
}

func (nn *NameNode) recoverHardExpired() error {
	return nn.mutate(func(t *txn) error {
		now := nn.now()
		var files []*inode
		for holder, ls := range nn.leases.byHolder {
			if now.Sub(ls.renewed) <= nn.cfg.LeaseHardLimit {
				continue
			}
			for id := range ls.files {
				if f := nn.ns.inodes[id]; f != nil && f.client == holder {
					files = append(files, f)
				}
			}
		}
		sort.Slice(files, func(i, j int) bool { return files[i].id < files[j].id })
		for _, f := range files {
			if err := nn.recoverFile(t, f, "hard limit"); err != nil {
				return err
			}
		}
		return nil
	})
}
