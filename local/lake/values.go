package lake

import (
	"encoding/json"
	"strconv"
)

// fromJSON turns a decoded JSON value of the engine's answer into a
// Result value: integers that fit into int64, other numbers into float64
// unless exact text is needed (DECIMAL, HUGEINT), nested values likewise.
func fromJSON(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil && strconv.FormatFloat(f, 'g', -1, 64) == string(v) {
			return f
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = fromJSON(x)
		}
	case map[string]any:
		for k, x := range v {
			v[k] = fromJSON(x)
		}
	}
	return v
}
