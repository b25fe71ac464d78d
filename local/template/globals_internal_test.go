package template

import (
	"reflect"
	"testing"
)

// TestMergeValue checks SAM's Globals merge rules on raw values, including
// the cases Load cannot show through the typed model (lists of anything).
func TestMergeValue(t *testing.T) {
	ref := func(s string) map[string]any { return map[string]any{"Ref": s} }
	tests := []struct {
		name                string
		global, local, want any
	}{
		{"primitive replaced", 10, 20, 20},
		{"list concatenated global first", []any{"g1", "g2"}, []any{"l1"}, []any{"g1", "g2", "l1"}},
		{
			"maps merged recursively, local wins",
			map[string]any{"Variables": map[string]any{"A": "g", "B": "g"}, "Other": 1},
			map[string]any{"Variables": map[string]any{"B": "l", "C": "l"}},
			map[string]any{"Variables": map[string]any{"A": "g", "B": "l", "C": "l"}, "Other": 1},
		},
		{"local intrinsic replaces global map", map[string]any{"A": "g"}, ref("P"), ref("P")},
		{"global intrinsic replaced by local map", ref("P"), map[string]any{"A": "l"}, map[string]any{"A": "l"}},
		{"intrinsic maps are not merged", ref("G"), ref("L"), ref("L")},
		{"type mismatch: local wins", []any{"g"}, "l", "l"},
		{"type mismatch: map vs list", map[string]any{"A": 1}, []any{1}, []any{1}},
		{"null local wins", "g", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mergeValue(tt.global, tt.local); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("mergeValue(%v, %v) = %v, want %v", tt.global, tt.local, got, tt.want)
			}
		})
	}
}

func TestApplyGlobalsIgnore(t *testing.T) {
	globals := map[string]any{"Timeout": 10, "MemorySize": 256}
	props := map[string]any{"Handler": "h"}
	got := applyGlobals(globals, props, []string{"Timeout"})
	want := map[string]any{"Handler": "h", "MemorySize": 256}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("applyGlobals ignoring Timeout = %v, want %v", got, want)
	}
	if got := applyGlobals(globals, props, []string{"*"}); !reflect.DeepEqual(got, props) {
		t.Errorf(`applyGlobals ignoring "*" = %v, want %v`, got, props)
	}
	if got := applyGlobals(globals, nil, nil); !reflect.DeepEqual(got, globals) {
		t.Errorf("applyGlobals with no Properties = %v, want %v", got, globals)
	}
}
