package lake_test

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/questlog/questlog/internal/inventory"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/local/lake"
)

// The DDL of every dialect declares the columns, types and partitions
// DuckDB reads from files the row types of the functions landed.
func TestDDLMatchesLandedFiles(t *testing.T) {
	root, st := fileRoot(t)
	landEvents(t, st, "extracted_events", planEvents(20, 9), 20)
	landSnapshots(t, st, []inventory.Snapshot{{UserName: "divya", Items: map[string]int64{"sword": 1}, SpentCents: map[string]int64{"gold": 1500}, Purchases: 1, UpdatedAt: day.UnixMilli(), KafkaTopic: "game-events"}})
	landRejected(t, st, "extracted_events", []job.Rejected{{KafkaTopic: "game-events", KafkaTimestamp: day.UnixMilli(), Key: []byte("k"), Value: []byte("v"), Reason: "not JSON"}})
	c := open(t, root)
	described := map[string][][2]string{}
	for _, table := range []string{"extracted_events", "inventory", "rejected"} {
		for _, r := range query(t, c, "describe "+table).Rows {
			described[table] = append(described[table], [2]string{r[0].(string), r[1].(string)})
		}
	}

	const cluster = "hdfs://namenode:8020/tmp"
	for _, dialect := range lake.Dialects {
		var b bytes.Buffer
		if err := lake.DDL(&b, dialect, []string{"extracted_events", "inventory"}, lake.DDLOptions{Root: cluster}); err != nil {
			t.Fatal(err)
		}
		ddl := b.String()
		for table, dir := range map[string]string{"extracted_events": "extracted_events", "inventory": "inventory", "rejected": "_rejected"} {
			stmt := statementFor(ddl, table)
			if stmt == "" {
				t.Errorf("%s: no CREATE for %s in\n%s", dialect, table, ddl)
				continue
			}
			var want [][2]string
			for _, col := range described[table] {
				want = append(want, [2]string{col[0], translate(dialect, col[1])})
			}
			if got := declaredColumns(stmt); !slices.Equal(got, want) {
				t.Errorf("%s %s declares\n%v\nDuckDB reads from the files\n%v", dialect, table, got, want)
			}
			if !strings.Contains(stmt, "'"+cluster+"/"+dir+"'") {
				t.Errorf("%s %s: no location %s/%s in\n%s", dialect, table, cluster, dir, stmt)
			}
		}
		repair := map[string]string{"hive": "MSCK REPAIR TABLE", "spark": "MSCK REPAIR TABLE", "trino": "system.sync_partition_metadata"}[dialect]
		if strings.Count(ddl, repair) != 3 {
			t.Errorf("%s: want a %s per table in\n%s", dialect, repair, ddl)
		}
	}
}

// statementFor returns the CREATE statement of table and what follows it.
func statementFor(ddl, table string) string {
	for _, stmt := range strings.Split(ddl, "\nCREATE ") {
		if first, _, _ := strings.Cut(stmt, "\n"); strings.Contains(first, "."+quoteFor(first, table)) {
			return stmt
		}
	}
	return ""
}

func quoteFor(line, name string) string {
	if strings.Contains(line, "`") {
		return "`" + name + "`"
	}
	return `"` + name + `"`
}

var (
	columnLine     = regexp.MustCompile("(?m)^  [`\"](\\w+)[`\"] (.+?),?$")
	partitionedBy  = regexp.MustCompile(`PARTITIONED BY \((.*)\)`)
	hivePartitions = regexp.MustCompile("`(\\w+)` (\\w+)")
)

// declaredColumns returns the columns a statement declares, in order,
// partition columns last.
func declaredColumns(stmt string) [][2]string {
	var cols [][2]string
	for _, m := range columnLine.FindAllStringSubmatch(stmt, -1) {
		cols = append(cols, [2]string{m[1], m[2]})
	}
	if m := partitionedBy.FindStringSubmatch(stmt); m != nil && strings.Contains(m[1], " ") { // Hive's typed partition list
		for _, p := range hivePartitions.FindAllStringSubmatch(m[1], -1) {
			cols = append(cols, [2]string{p[1], p[2]})
		}
	}
	return cols
}

// translate names a DuckDB type in a dialect.
func translate(dialect, duck string) string {
	if inner, ok := strings.CutPrefix(duck, "MAP("); ok {
		k, v, _ := strings.Cut(strings.TrimSuffix(inner, ")"), ", ")
		if dialect == "trino" {
			return "map(" + translate(dialect, k) + ", " + translate(dialect, v) + ")"
		}
		return "MAP<" + translate(dialect, k) + ", " + translate(dialect, v) + ">"
	}
	names := map[string]map[string]string{
		"hive":  {"VARCHAR": "STRING", "BIGINT": "BIGINT", "INTEGER": "INT", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP", "BLOB": "BINARY", "DATE": "DATE"},
		"spark": {"VARCHAR": "STRING", "BIGINT": "BIGINT", "INTEGER": "INT", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP", "BLOB": "BINARY", "DATE": "DATE"},
		"trino": {"VARCHAR": "varchar", "BIGINT": "bigint", "INTEGER": "integer", "TIMESTAMP WITH TIME ZONE": "timestamp(3)", "BLOB": "varbinary", "DATE": "date"},
	}
	if n, ok := names[dialect][duck]; ok {
		return n
	}
	return "unknown " + duck
}
