package lake

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Dialects are the engines DDL writes for: those that read the lake where
// it lies on a cluster.
var Dialects = []string{"hive", "trino", "spark"}

// hiveTypes are HiveQL's types, which Spark SQL shares.
var hiveTypes = dialect{
	names: map[kind]string{
		kindString: "STRING", kindBinary: "BINARY", kindBool: "BOOLEAN", kindInt32: "INT", kindInt64: "BIGINT",
		kindFloat: "FLOAT", kindDouble: "DOUBLE", kindTimestamp: "TIMESTAMP", kindLocalTimestamp: "TIMESTAMP", kindDate: "DATE",
	},
	mapType: func(k, v string) string { return "MAP<" + k + ", " + v + ">" },
}

// sparkTypes are Spark SQL's: HiveQL's, plus timestamps without a zone.
var sparkTypes = dialect{names: maps.Clone(hiveTypes.names), mapType: hiveTypes.mapType}

func init() { sparkTypes.names[kindLocalTimestamp] = "TIMESTAMP_NTZ" }

func backtick(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

var ddlDialects = map[string]ddlDialect{
	"hive": {
		types: hiveTypes,
		quote: backtick,
		create: func(d ddlDialect, t ddlTable) string {
			return fmt.Sprintf("CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n%s\n)\nPARTITIONED BY (%s)\nSTORED AS PARQUET\nLOCATION %s;\nMSCK REPAIR TABLE %s;\n",
				t.name, d.columnList(t.columns, "  "), d.columnList(t.partitions, ""), SQLString(t.location), t.name)
		},
	},
	// Trino's Hive connector: partition columns come last in the column
	// list and are named in partitioned_by; sync_partition_metadata finds
	// the dt= directories.
	"trino": {
		types: dialect{
			names: map[kind]string{
				kindString: "varchar", kindBinary: "varbinary", kindBool: "boolean", kindInt32: "integer", kindInt64: "bigint",
				kindFloat: "real", kindDouble: "double", kindTimestamp: "timestamp(3)", kindLocalTimestamp: "timestamp(3)", kindDate: "date",
			},
			mapType: func(k, v string) string { return "map(" + k + ", " + v + ")" },
		},
		quote: sqlIdent,
		create: func(d ddlDialect, t ddlTable) string {
			keys := make([]string, len(t.partitions))
			for i, p := range t.partitions {
				keys[i] = SQLString(p.name)
			}
			return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n%s\n)\nWITH (\n  format = 'PARQUET',\n  external_location = %s,\n  partitioned_by = ARRAY[%s]\n);\nCALL %s.system.sync_partition_metadata(%s, %s, 'ADD');\n",
				t.name, d.columnList(append(slices.Clone(t.columns), t.partitions...), "  "), SQLString(t.location), strings.Join(keys, ", "),
				t.catalog, SQLString(t.schema), SQLString(t.bare))
		},
	},
	// Spark SQL's own Parquet tables (no Hive support needed): a table
	// with a LOCATION is external; MSCK REPAIR TABLE finds the partitions.
	"spark": {
		types: sparkTypes,
		quote: backtick,
		create: func(d ddlDialect, t ddlTable) string {
			names := make([]string, len(t.partitions))
			for i, p := range t.partitions {
				names[i] = d.quote(p.name)
			}
			return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n%s\n)\nUSING PARQUET\nPARTITIONED BY (%s)\nLOCATION %s;\nMSCK REPAIR TABLE %s;\n",
				t.name, d.columnList(append(slices.Clone(t.columns), t.partitions...), "  "), strings.Join(names, ", "), SQLString(t.location), t.name)
		},
	},
}

type ddlDialect struct {
	types  dialect
	quote  func(string) string
	create func(ddlDialect, ddlTable) string
}

type ddlTable struct {
	name                  string // qualified and quoted
	catalog, schema, bare string
	columns, partitions   []field
	location              string
}

func (d ddlDialect) columnList(fields []field, indent string) string {
	lines := make([]string, len(fields))
	for i, f := range fields {
		lines[i] = indent + d.quote(f.name) + " " + d.types.typeName(f.typ)
	}
	if indent == "" {
		return strings.Join(lines, ", ")
	}
	return strings.Join(lines, ",\n")
}

// DDLOptions say where the tables go.
type DDLOptions struct {
	// Root is the dataset root the tables' locations are under, e.g.
	// hdfs://namenode:8020/tmp.
	Root string
	// Database is the database (Trino: schema) of the tables. Default: default.
	Database string
	// Catalog is Trino's catalog of the Hive connector. Default: hive.
	Catalog string
}

// DDL writes, in dialect (one of Dialects), the statements that declare
// every dataset (and the dead letters, as rejected) as an external Parquet
// table over its files, partitioned by dt, plus the statement that finds
// the partitions. The columns come from the Parquet schemas the functions
// write.
func DDL(w io.Writer, dialectName string, datasets []string, opts DDLOptions) error {
	d, ok := ddlDialects[dialectName]
	if !ok {
		return fmt.Errorf("unknown dialect %q: use one of %s", dialectName, strings.Join(Dialects, ", "))
	}
	if opts.Database == "" {
		opts.Database = "default"
	}
	if opts.Catalog == "" {
		opts.Catalog = "hive"
	}
	root := strings.TrimRight(opts.Root, "/")
	defs := make([]tableDef, 0, len(datasets)+1)
	for _, name := range datasets {
		defs = append(defs, datasetTable(name, declaredFields(name)))
	}
	defs = append(defs, rejectedDef)
	fmt.Fprintf(w, "-- questlog datasets under %s as %s tables\n", root, dialectName)
	for _, def := range defs {
		t := ddlTable{
			catalog: opts.Catalog, schema: opts.Database, bare: def.name,
			columns: def.fields, partitions: partitionFieldsOf(def), location: root + "/" + def.dir,
		}
		t.name = d.quote(opts.Database) + "." + d.quote(def.name)
		if dialectName == "trino" {
			t.name = d.quote(opts.Catalog) + "." + t.name
		}
		if _, err := fmt.Fprintf(w, "\n%s", d.create(d, t)); err != nil {
			return err
		}
	}
	return nil
}
