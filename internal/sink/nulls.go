package sink

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// parquet-go (v0.32.0 and v0.32.1, column_buffer_write.go,
// writeRowsFuncOfOptional) writes some NULLs of optional non-pointer
// fields ("" strings, 0 numbers, nil byte slices) as values. It walks each
// Write call's null bitmap in 64-row words; where a non-null run starts at
// bit y ≥ 1 of a word, it tests `bits>>y == (1<<y)-1` for "the rest of the
// word is non-null" (it means `^uint64(0)>>y`). So a run exactly y rows
// long followed by nulls to the end of the word makes it write those
// nulls as zero values: a default hit, a purchase, then default hits left
// item_type = '' on the hits.
//
// writeRows works around it: it splits a Write where a column would hit
// the bug, at the end of that run, so the rest starts a new bitmap. The
// splits are rare and the check is a scan of each optional column.

// optionalField is a top-level optional, non-pointer field of a row type,
// and how parquet-go decides it is null.
type optionalField struct {
	offset uintptr
	isNull func(p unsafe.Pointer) bool
}

var optionalFieldsByType sync.Map // reflect.Type → []optionalField

func optionalFields[T any]() []optionalField {
	t := reflect.TypeFor[T]()
	if f, ok := optionalFieldsByType.Load(t); ok {
		return f.([]optionalField)
	}
	var fields []optionalField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("parquet"), ",")
		if len(tag) < 2 || !slices.Contains(tag[1:], "optional") {
			continue
		}
		// As parquet-go's nullIndex functions decide.
		var isNull func(unsafe.Pointer) bool
		switch k := f.Type.Kind(); {
		case k == reflect.String:
			isNull = func(p unsafe.Pointer) bool { return len(*(*string)(p)) == 0 }
		case k == reflect.Slice:
			isNull = func(p unsafe.Pointer) bool { return unsafe.SliceData(*(*[]byte)(p)) == nil }
		case k == reflect.Bool, k >= reflect.Int && k <= reflect.Uint64, k == reflect.Float32, k == reflect.Float64:
			size := f.Type.Size()
			isNull = func(p unsafe.Pointer) bool {
				for _, b := range unsafe.Slice((*byte)(p), size) {
					if b != 0 {
						return false
					}
				}
				return true
			}
		default:
			continue // pointers, maps and structs do not take this path
		}
		fields = append(fields, optionalField{offset: f.Offset, isNull: isNull})
	}
	optionalFieldsByType.Store(t, fields)
	return fields
}

// writeRows writes rows to pw in as few Write calls as keep every NULL a
// NULL (see above).
func writeRows[T any](pw *parquet.GenericWriter[T], rows []T) error {
	fields := optionalFields[T]()
	for len(rows) > 0 {
		n := len(rows)
		for _, f := range fields {
			n = min(n, safePrefix(rows[:n], f))
		}
		if _, err := pw.Write(rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// safePrefix returns how many leading rows one Write call can take
// without parquet-go turning a NULL of field f into a value: all of them,
// or up to the end of the first non-null run that would mislead it.
func safePrefix[T any](rows []T, f optionalField) int {
	null := func(i int) bool { return f.isNull(unsafe.Add(unsafe.Pointer(&rows[i]), f.offset)) }
	for word := 0; word < len(rows); word += 64 {
		end := min(word+64, len(rows))
		for y := 1; y < end-word; y++ {
			if !null(word+y-1) || null(word+y) {
				continue // not the start of a non-null run after a null
			}
			runEnd := word + y
			for runEnd < end && !null(runEnd) {
				runEnd++
			}
			if runEnd-(word+y) == y && runEnd < end && restNull(null, runEnd, end) {
				return runEnd
			}
			y = runEnd - word
		}
	}
	return len(rows)
}

func restNull(null func(int) bool, from, to int) bool {
	for i := from; i < to; i++ {
		if !null(i) {
			return false
		}
	}
	return true
}
