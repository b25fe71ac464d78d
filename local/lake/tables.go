package lake

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
	"github.com/questlog/questlog/local/template"
)

// Names of the tables that are not a dataset of their own.
const (
	// RejectedTable holds the dead letters of every job
	// (_rejected/dataset=<dataset>), with a dataset column.
	RejectedTable = "rejected"
	// AllEventsTable holds the rows of every dataset of events, with a
	// dataset column: one place to ask which datasets hold an event, or
	// how fresh each is.
	AllEventsTable = "all_events"

	rejectedDir = "_rejected"
)

// A tableDef is where a table's files are under the dataset root and
// what its rows look like when it has no file yet.
type tableDef struct {
	name string // the table's SQL name
	dir  string // under the root
	// partitions are the Hive partition keys of the directories under dir,
	// outermost first; the files are in the innermost.
	partitions []string
	// fields is the schema to use when the table has no file (nil: no
	// table until it has one).
	fields []field
}

func datasetTable(name string, fields []field) tableDef {
	return tableDef{name: name, dir: name, partitions: []string{"dt"}, fields: fields}
}

var rejectedDef = tableDef{name: RejectedTable, dir: rejectedDir, partitions: []string{"dataset", "dt"}, fields: rejectedFields}

// knownFields are the schemas of datasets not of events, by dataset name:
// the InventoryFunction's snapshots. Every other dataset a job of the
// template declares holds events (event.Row).
var knownFields = map[string][]field{"inventory": snapshotFields}

// declaredFields is the schema of a dataset a job declares.
func declaredFields(dataset string) []field {
	if f, ok := knownFields[dataset]; ok {
		return f
	}
	return eventFields
}

// TemplateDatasets returns the datasets the template's jobs declare (their
// DATASET variable), sorted.
func TemplateDatasets(templatePath string) ([]string, error) {
	t, err := loadTemplate(templatePath)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, fn := range t.Functions {
		if d := fn.Environment["DATASET"]; d != "" && len(fn.KafkaEvents) > 0 && sink.ValidateDataset(d) == nil && !strings.Contains(d, "/") {
			names = append(names, d)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// tableDefs lists the tables of a root: the declared datasets, every
// directory of the root that is not internal (a dataset landed by a job
// since removed, or a filter added since the template was read), and the
// dead letters.
func tableDefs(ctx context.Context, st store.Store, declared []string) ([]tableDef, error) {
	entries, err := st.ReadDir(ctx, "")
	if err != nil {
		return nil, err
	}
	names := slices.Clone(declared)
	for _, e := range entries {
		if e.IsDir && !strings.HasPrefix(e.Name, "_") && !strings.HasPrefix(e.Name, ".") && sink.ValidateDataset(e.Name) == nil {
			names = append(names, e.Name)
		}
	}
	slices.Sort(names)
	var defs []tableDef
	for _, name := range slices.Compact(names) {
		if name == RejectedTable || name == AllEventsTable {
			continue // would shadow the lake's own tables
		}
		var fields []field
		if slices.Contains(declared, name) {
			fields = declaredFields(name)
		}
		defs = append(defs, datasetTable(name, fields))
	}
	return append(defs, rejectedDef), nil
}

// A landed file of a table, relative to the root.
type landedFile struct {
	name string
	size int64
}

// listFiles lists a table's landed files: names a job gave them
// (sink.FileName) in partition directories, never under _tmp/ or _locks/.
func listFiles(ctx context.Context, st store.Store, def tableDef) ([]landedFile, error) {
	var files []landedFile
	var walk func(dir string, level int) error
	walk = func(dir string, level int) error {
		entries, err := st.ReadDir(ctx, dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			switch {
			case level < len(def.partitions):
				if e.IsDir && strings.HasPrefix(e.Name, def.partitions[level]+"=") && validPartition(e.Name) {
					if err := walk(dir+"/"+e.Name, level+1); err != nil {
						return err
					}
				}
			case !e.IsDir:
				if _, _, _, _, ok := sink.ParseFileName(e.Name); ok {
					files = append(files, landedFile{name: dir + "/" + e.Name, size: e.Size})
				}
			}
		}
		return nil
	}
	err := walk(def.dir, 0)
	return files, err
}

var partitionDir = regexp.MustCompile(`^[A-Za-z0-9_]+=[A-Za-z0-9_.-]+$`)

// validPartition keeps partition directory names that are safe inside a
// glob and a file path.
func validPartition(name string) bool { return partitionDir.MatchString(name) }

// walkLocal calls fn with the name of each landed file of def in a local
// root, until fn returns false. It reads directories only (no stat of each
// file, as a store listing does).
func walkLocal(root string, def tableDef, fn func(name string) bool) {
	var walk func(dir string, level int) bool
	walk = func(dir string, level int) bool {
		entries, _ := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
		for _, e := range entries {
			switch {
			case level < len(def.partitions):
				if e.IsDir() && strings.HasPrefix(e.Name(), def.partitions[level]+"=") && validPartition(e.Name()) {
					if !walk(dir+"/"+e.Name(), level+1) {
						return false
					}
				}
			case !e.IsDir():
				if _, _, _, _, ok := sink.ParseFileName(e.Name()); ok && !fn(dir+"/"+e.Name()) {
					return false
				}
			}
		}
		return true
	}
	walk(def.dir, 0)
}

// firstLocalFile returns one landed file of def in a local root.
func firstLocalFile(root string, def tableDef) (first string, ok bool) {
	walkLocal(root, def, func(name string) bool {
		first, ok = name, true
		return false
	})
	return first, ok
}

// glob is the pattern of a table's files under dir.
func (def tableDef) glob(dir string) string {
	parts := []string{dir, def.dir}
	for _, p := range def.partitions {
		parts = append(parts, p+"=*")
	}
	return path.Join(append(parts, "*.parquet")...)
}

// mentions reports whether name occurs in text as a word (case
// insensitive): whether a query may read the table, so its files must be
// current.
func mentions(text, name string) bool {
	text, name = strings.ToLower(text), strings.ToLower(name)
	for i := 0; ; {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		if (start == 0 || !isWordByte(text[start-1])) && (end == len(text) || !isWordByte(text[end])) {
			return true
		}
		i = start + 1
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// TemplateParameter returns the value of a template parameter (its
// default).
func TemplateParameter(templatePath, name string) (string, error) {
	t, err := loadTemplate(templatePath)
	if err != nil {
		return "", err
	}
	v, ok := t.Parameters[name]
	if !ok {
		return "", fmt.Errorf("%s declares no parameter %s", templatePath, name)
	}
	return v, nil
}

// loadTemplate loads the template as written, without the shell's
// environment (which SAM lets override functions' variables).
func loadTemplate(path string) (*template.Template, error) {
	return template.Load(path, template.Options{LookupEnv: func(string) (string, bool) { return "", false }})
}
