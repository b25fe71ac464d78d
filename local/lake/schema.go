package lake

import (
	"fmt"
	"os"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/inventory"
	"github.com/questlog/questlog/internal/job"
)

// A field is a Parquet column as SQL engines see it. The lake's schemas
// come from the Parquet schemas the functions write (parquet.SchemaOf of
// their row types, or a landed file's footer), never from a second,
// hand-written list; each engine's type names are derived from a field.
type field struct {
	name string
	typ  fieldType
}

// fieldType is a column's type: a scalar kind, or a map of two.
type fieldType struct {
	kind       kind
	key, value *fieldType // maps
}

type kind int

const (
	kindString kind = iota
	kindBinary
	kindBool
	kindInt32
	kindInt64
	kindFloat
	kindDouble
	kindTimestamp // an instant, millisecond or finer, adjusted to UTC
	kindLocalTimestamp
	kindDate
	kindMap
)

// Schemas of the row types the functions land.
var (
	eventFields     = mustFields(parquet.SchemaOf(event.Row{}))
	snapshotFields  = mustFields(parquet.SchemaOf(inventory.Snapshot{}))
	rejectedFields  = mustFields(parquet.SchemaOf(job.Rejected{}))
	dtField         = field{"dt", fieldType{kind: kindDate}}
	datasetField    = field{"dataset", fieldType{kind: kindString}}
	partitionFields = map[string]field{"dt": dtField, "dataset": datasetField}
)

func mustFields(s *parquet.Schema) []field {
	fs, err := fieldsOf(s)
	if err != nil {
		panic(err)
	}
	return fs
}

// fieldsOf converts a Parquet schema's top-level columns.
func fieldsOf(s *parquet.Schema) ([]field, error) {
	var out []field
	for _, f := range s.Fields() {
		t, err := typeOf(f)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name(), err)
		}
		out = append(out, field{f.Name(), t})
	}
	return out, nil
}

func typeOf(n parquet.Node) (fieldType, error) {
	if n.Repeated() {
		return fieldType{}, fmt.Errorf("repeated columns are not supported")
	}
	var logical format.LogicalTypeValue
	if lt := n.Type().LogicalType(); lt != nil {
		logical = lt.Value
	}
	if !n.Leaf() {
		if _, ok := logical.(*format.MapType); !ok || len(n.Fields()) != 1 {
			return fieldType{}, fmt.Errorf("groups other than MAP are not supported")
		}
		var key, value *fieldType
		for _, kv := range n.Fields()[0].Fields() {
			t, err := typeOf(kv)
			if err != nil {
				return fieldType{}, err
			}
			switch kv.Name() {
			case "key":
				key = &t
			case "value":
				value = &t
			}
		}
		if key == nil || value == nil {
			return fieldType{}, fmt.Errorf("MAP without key and value")
		}
		return fieldType{kind: kindMap, key: key, value: value}, nil
	}
	switch lt := logical.(type) {
	case *format.StringType, *format.EnumType, *format.JsonType:
		return fieldType{kind: kindString}, nil
	case *format.DateType:
		return fieldType{kind: kindDate}, nil
	case *format.TimestampType:
		if lt.IsAdjustedToUTC {
			return fieldType{kind: kindTimestamp}, nil
		}
		return fieldType{kind: kindLocalTimestamp}, nil
	case *format.IntType:
		if lt.BitWidth == 64 {
			return fieldType{kind: kindInt64}, nil
		}
		return fieldType{kind: kindInt32}, nil
	case nil:
	default:
		return fieldType{}, fmt.Errorf("logical type %s is not supported", lt)
	}
	switch n.Type().Kind() {
	case parquet.Boolean:
		return fieldType{kind: kindBool}, nil
	case parquet.Int32:
		return fieldType{kind: kindInt32}, nil
	case parquet.Int64:
		return fieldType{kind: kindInt64}, nil
	case parquet.Float:
		return fieldType{kind: kindFloat}, nil
	case parquet.Double:
		return fieldType{kind: kindDouble}, nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return fieldType{kind: kindBinary}, nil
	}
	return fieldType{}, fmt.Errorf("physical type %s is not supported", n.Type().Kind())
}

// fileFields reads the schema from a local Parquet file's footer.
func fileFields(path string) ([]field, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%s is not a Parquet file: %w", path, err)
	}
	return fieldsOf(pf.Schema())
}

// sameNames reports whether two schemas have the same column names.
func sameNames(a, b []field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name {
			return false
		}
	}
	return true
}

// dialect names the types of one engine.
type dialect struct {
	names map[kind]string
	// mapType writes a map type from its key and value type names.
	mapType func(key, value string) string
}

func (d dialect) typeName(t fieldType) string {
	if t.kind == kindMap {
		return d.mapType(d.typeName(*t.key), d.typeName(*t.value))
	}
	return d.names[t.kind]
}

// duckDB's names are those its DESCRIBE prints for the files.
var duckDB = dialect{
	names: map[kind]string{
		kindString: "VARCHAR", kindBinary: "BLOB", kindBool: "BOOLEAN", kindInt32: "INTEGER", kindInt64: "BIGINT",
		kindFloat: "FLOAT", kindDouble: "DOUBLE", kindTimestamp: "TIMESTAMP WITH TIME ZONE", kindLocalTimestamp: "TIMESTAMP",
		kindDate: "DATE",
	},
	mapType: func(k, v string) string { return "MAP(" + k + ", " + v + ")" },
}

// SQLString quotes s as a SQL string literal.
func SQLString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqlIdent quotes s as a SQL identifier.
func sqlIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
