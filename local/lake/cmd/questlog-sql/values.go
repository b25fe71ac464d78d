//go:build cgo

package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// typeName is the column type as DuckDB's DESCRIBE spells it.
func typeName(driverName string) string {
	switch driverName {
	case "TIMESTAMPTZ":
		return "TIMESTAMP WITH TIME ZONE"
	case "TIMETZ":
		return "TIME WITH TIME ZONE"
	}
	return driverName
}

// jsonValue turns a value of a column of DuckDB type typ (as typeName
// spells it; "" inside nested values) into one JSON encodes without loss:
// exact numbers for DECIMAL and HUGEINT, ISO 8601 text for dates, times
// and timestamps, DuckDB's escaped text for BLOBs, and nested lists,
// structs and maps.
func jsonValue(v any, typ string) any {
	switch v := v.(type) {
	case nil, bool, string, int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		return v
	case float32:
		return jsonFloat(float64(v))
	case float64:
		return jsonFloat(v)
	case *big.Int:
		return json.Number(v.String())
	case duckdb.Decimal:
		return json.Number(v.String())
	case time.Time:
		return timeText(v, typ)
	case []byte:
		return blobText(v)
	case duckdb.UUID:
		return v.String()
	case *duckdb.UUID:
		return v.String()
	case duckdb.Interval:
		return intervalText(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonValue(x, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = jsonValue(x, "")
		}
		return out
	case duckdb.OrderedMap:
		out := make(map[string]any, v.Len())
		keys, values := v.Keys(), v.Values()
		for i, k := range keys {
			out[fmt.Sprint(jsonValue(k, ""))] = jsonValue(values[i], "")
		}
		return out
	case duckdb.Union:
		return jsonValue(v.Value, "")
	default:
		return fmt.Sprint(v)
	}
}

// jsonFloat keeps NaN and infinities, which JSON numbers cannot hold, as
// text.
func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprint(f)
	}
	return f
}

// timeText writes DATE, TIME and TIMESTAMP values as ISO 8601 text; the
// driver returns all of them as a time.Time in UTC. Instants (TIMESTAMP
// WITH TIME ZONE, and times inside nested values) end in Z.
func timeText(t time.Time, typ string) string {
	t = t.UTC()
	switch {
	case typ == "DATE":
		return t.Format(time.DateOnly)
	case strings.HasPrefix(typ, "TIME") && !strings.HasPrefix(typ, "TIMESTAMP"):
		return t.Format("15:04:05.999999")
	case strings.HasPrefix(typ, "TIMESTAMP") && !strings.Contains(typ, "TIME ZONE"):
		return t.Format("2006-01-02T15:04:05.999999")
	}
	return t.Format("2006-01-02T15:04:05.999999Z07:00")
}

func blobText(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, `\x%02X`, c)
		}
	}
	return s.String()
}

func intervalText(i duckdb.Interval) string {
	var parts []string
	if i.Months != 0 {
		parts = append(parts, fmt.Sprintf("%d months", i.Months))
	}
	if i.Days != 0 {
		parts = append(parts, fmt.Sprintf("%d days", i.Days))
	}
	if i.Micros != 0 || len(parts) == 0 {
		d := time.Duration(i.Micros) * time.Microsecond
		parts = append(parts, d.String())
	}
	return strings.Join(parts, " ")
}
