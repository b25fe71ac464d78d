package sink

import (
	"cmp"
	"slices"
	"time"
)

// offsetRange is the inclusive offset range of one landed file.
type offsetRange struct{ first, last int64 }

// ranges are the landed ranges of one partition, sorted by first offset.
type ranges []offsetRange

func (rs ranges) sort() {
	slices.SortFunc(rs, func(a, b offsetRange) int { return cmp.Compare(a.first, b.first) })
}

// add adds r, merged with every range it overlaps or touches: rs stays
// sorted and disjoint, and covers the same offsets as the files it was
// made of (so the lookups below answer the same).
func (rs *ranges) add(r offsetRange) {
	s := *rs
	if n := len(s); n == 0 || s[n-1].last < r.first-1 { // the usual case: the next batch
		*rs = append(s, r)
		return
	}
	from, _ := slices.BinarySearchFunc(s, r.first-1, func(x offsetRange, off int64) int { return cmp.Compare(x.last, off) })
	to, _ := slices.BinarySearchFunc(s, r.last+2, func(x offsetRange, off int64) int { return cmp.Compare(x.first, off) })
	if from < to {
		r = offsetRange{min(r.first, s[from].first), max(r.last, s[to-1].last)}
	}
	*rs = slices.Replace(s, from, to, r)
}

// merged returns the union of rs as sorted disjoint ranges.
func (rs ranges) merged() ranges {
	rs.sort()
	var out ranges
	for _, r := range rs {
		out.add(r)
	}
	return out
}

// after returns the index of the first range starting after off.
func (rs ranges) after(off int64) int {
	i, _ := slices.BinarySearchFunc(rs, off, func(r offsetRange, off int64) int {
		if r.first <= off {
			return -1
		}
		return 1
	})
	return i
}

func (rs ranges) covers(off int64) bool {
	i := rs.after(off)
	return i > 0 && off <= rs[i-1].last
}

// uncovered returns the records no landed range covers, sorted by offset,
// one per offset.
func uncovered[T any](rs ranges, records []Record[T]) []Record[T] {
	if len(rs) == 0 || rs[len(rs)-1].last < records[0].Offset || rs[0].first > records[len(records)-1].Offset {
		if slices.IsSortedFunc(records, func(a, b Record[T]) int { return cmp.Compare(a.Offset, b.Offset) }) &&
			!hasRepeats(records) {
			return records // the usual case: a new Kafka batch
		}
	}
	out := make([]Record[T], 0, len(records))
	ascending := true
	for _, r := range records {
		if !rs.covers(r.Offset) {
			if len(out) > 0 && r.Offset <= out[len(out)-1].Offset {
				ascending = false
			}
			out = append(out, r)
		}
	}
	if ascending { // the usual case: a Kafka batch
		return out
	}
	slices.SortStableFunc(out, func(a, b Record[T]) int { return cmp.Compare(a.Offset, b.Offset) })
	return slices.CompactFunc(out, func(a, b Record[T]) bool { return a.Offset == b.Offset })
}

// run returns the leading records that can share one file: same date, and
// no landed range between two of them (files never overlap).
func run[T any](rs ranges, records []Record[T]) []Record[T] {
	day := dayOf(records[0].Date)
	n := 1
	for n < len(records) && dayOf(records[n].Date) == day {
		if i := rs.after(records[n-1].Offset); i < len(rs) && rs[i].first < records[n].Offset {
			break
		}
		n++
	}
	return records[:n]
}

func hasRepeats[T any](sorted []Record[T]) bool {
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Offset == sorted[i-1].Offset {
			return true
		}
	}
	return false
}

// dayOf numbers t's UTC date (days since 1970-01-01), cheaper to compare
// than its formatted form.
func dayOf(t time.Time) int64 {
	sec := t.Unix()
	day := sec / 86400
	if sec%86400 < 0 {
		day-- // floor, for instants before 1970
	}
	return day
}
