package esm

import (
	"maps"
	"slices"
	"sync"
)

// Stats accumulates a mapping's counters. The zero value is ready to use and
// safe for concurrent use; pass it as Options.Stats and read Snapshot.
type Stats struct {
	mu        sync.Mutex
	s         StatsSnapshot
	hwm       map[int32]int64
	committed map[int32]int64
	assigned  map[int32]bool
}

// StatsSnapshot is a copy of a mapping's counters.
type StatsSnapshot struct {
	Batches   int64 // successful invocations
	Records   int64 // records delivered by successful invocations
	Filtered  int64 // records dropped by FilterPatterns (and committed)
	Oversized int64 // records too large for a 6 MB payload (committed, not delivered)
	Errors    int64 // failed invocation attempts (each retry counts)

	// Assigned lists the partitions this member owns (Run only), sorted.
	Assigned []int32
	// Committed is the next offset committed per partition (for Replay,
	// which commits nothing: the next offset it reached).
	Committed map[int32]int64
	// Lag is the sum over partitions of the high watermark last seen in a
	// fetch minus the committed offset (0 when unknown).
	Lag int64
}

// Snapshot returns a consistent copy of the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.s
	out.Committed = maps.Clone(s.committed)
	if out.Committed == nil {
		out.Committed = map[int32]int64{}
	}
	out.Assigned = slices.Sorted(maps.Keys(s.assigned))
	for p, h := range s.hwm {
		if c, ok := s.committed[p]; ok && h > c {
			out.Lag += h - c
		}
	}
	return out
}

func (s *Stats) update(fn func(*Stats)) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hwm == nil {
		s.hwm = map[int32]int64{}
		s.committed = map[int32]int64{}
		s.assigned = map[int32]bool{}
	}
	fn(s)
}

func (s *Stats) settled(b BatchInfo) {
	s.update(func(s *Stats) {
		if b.Records > 0 {
			s.s.Batches++
			s.s.Records += int64(b.Records)
		}
		s.s.Filtered += int64(b.Filtered)
		s.s.Oversized += int64(b.Oversized)
	})
}

func (s *Stats) committedOffset(p int32, next int64) {
	s.update(func(s *Stats) { s.committed[p] = next })
}

func (s *Stats) failedAttempt() { s.update(func(s *Stats) { s.s.Errors++ }) }

func (s *Stats) highWatermark(p int32, hwm int64) {
	s.update(func(s *Stats) { s.hwm[p] = hwm })
}

func (s *Stats) setAssigned(ps []int32, assigned bool) {
	s.update(func(s *Stats) {
		for _, p := range ps {
			if assigned {
				s.assigned[p] = true
			} else {
				delete(s.assigned, p)
			}
		}
	})
}
