package esm

import (
	"maps"
	"slices"
)

// PartitionStats is one partition of a mapping's topic as the mapping last
// saw it.
type PartitionStats struct {
	Partition int32 `json:"partition"`
	Assigned  bool  `json:"assigned"`
	// Committed is the next offset committed, -1 before the first commit.
	Committed int64 `json:"committed"`
	// HighWatermark is the partition's end offset in the last fetch that
	// returned records, -1 before one did.
	HighWatermark int64 `json:"high_watermark"`
}

// Partitions returns every partition the mapping has owned or committed,
// sorted by partition.
func (s *Stats) Partitions() []PartitionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[int32]bool{}
	for _, m := range []map[int32]int64{s.committed, s.hwm} {
		for p := range m {
			seen[p] = true
		}
	}
	for p := range s.assigned {
		seen[p] = true
	}
	out := make([]PartitionStats, 0, len(seen))
	for _, p := range slices.Sorted(maps.Keys(seen)) {
		ps := PartitionStats{Partition: p, Assigned: s.assigned[p], Committed: -1, HighWatermark: -1}
		if c, ok := s.committed[p]; ok {
			ps.Committed = c
		}
		if h, ok := s.hwm[p]; ok {
			ps.HighWatermark = h
		}
		out = append(out, ps)
	}
	return out
}
