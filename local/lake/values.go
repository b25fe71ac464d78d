package lake

import (
	"encoding/json"
	"strconv"
	"strings"
)

// fromJSON turns a decoded JSON value of a column of DuckDB type typ (""
// inside nested values) into a Result value: DOUBLE and FLOAT into
// float64, integers into int64 (HUGEINT beyond it stays exact
// json.Number), DECIMAL into float64 when that is exact, nested values
// likewise.
func fromJSON(v any, typ string) any {
	switch v := v.(type) {
	case json.Number:
		s := string(v)
		if typ == "DOUBLE" || typ == "FLOAT" {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return f
			}
			return v
		}
		if !strings.HasPrefix(typ, "DECIMAL") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && exactFloat(f, s) {
			return f
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = fromJSON(x, "")
		}
	case map[string]any:
		for k, x := range v {
			v[k] = fromJSON(x, "")
		}
	}
	return v
}

// exactFloat reports whether f prints as s (the decimal text of a
// DECIMAL, trailing zeros dropped): whether float64 holds it exactly
// enough to print it back.
func exactFloat(f float64, s string) bool {
	return strconv.FormatFloat(f, 'f', -1, 64) == s
}

// typedRows converts the rows of an answer in place.
func typedRows(rows [][]any, cols []Column) {
	for _, row := range rows {
		for i, v := range row {
			typ := ""
			if i < len(cols) {
				typ = cols[i].Type
			}
			row[i] = fromJSON(v, typ)
		}
	}
}
