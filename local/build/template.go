package build

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// BuiltTemplateName is the template sam build writes next to the artifacts
// and that sam deploy and sam local prefer over the project's.
const BuiltTemplateName = "template.yaml"

// WriteTemplate writes template.yaml into the build directory (opts'
// ProjectDir and BuildDir, as for Build): the template at templatePath as
// sam build writes it. Every function with a bootstrap in
// <BuildDir>/<LogicalID> gets that folder as its CodeUri; other relative
// CodeUris are rewritten to point at the same place as before. Without
// it, sam deploy and sam local would read template.yaml, whose CodeUri "."
// packages the whole project for every function. Comments and short-form
// intrinsics (!Ref) are kept. It returns the file's path.
func WriteTemplate(templatePath string, opts Options) (string, error) {
	src, err := filepath.Abs(templatePath)
	if err != nil {
		return "", err
	}
	projectDir, err := filepath.Abs(opts.ProjectDir)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("built template: %w", err)
	}
	dir := resolveBuildDir(projectDir, opts.BuildDir)
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", fmt.Errorf("built template: parse %s: %w", src, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return "", fmt.Errorf("built template: %s is not a YAML mapping", src)
	}
	r := relocator{from: filepath.Dir(src), to: dir}
	root := doc.Content[0]
	if fn := lookup(lookup(root, "Globals"), "Function"); fn != nil {
		r.relocate(lookup(fn, "CodeUri"))
	}
	if resources := lookup(root, "Resources"); resources != nil && resources.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(resources.Content); i += 2 {
			id, res := resources.Content[i].Value, resources.Content[i+1]
			if typ := lookup(res, "Type"); typ == nil || typ.Value != "AWS::Serverless::Function" {
				continue
			}
			if isExecutable(filepath.Join(dir, id, "bootstrap")) {
				set(properties(res), "CodeUri", id)
			} else {
				r.relocate(lookup(lookup(res, "Properties"), "CodeUri"))
			}
		}
	}

	var out bytes.Buffer
	rel, _ := filepath.Rel(dir, src)
	fmt.Fprintf(&out, "# Written by questlog build from %s, as sam build writes it: each\n"+
		"# built function's CodeUri is its folder here. Edit the original instead.\n", filepath.ToSlash(rel))
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", fmt.Errorf("built template: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("built template: %w", err)
	}
	path := filepath.Join(dir, BuiltTemplateName)
	if err := writeAtomically(path, out.Bytes()); err != nil {
		return "", fmt.Errorf("built template: %w", err)
	}
	return path, nil
}

// writeAtomically replaces path, so that a reader (or a concurrent build)
// never sees half a file.
func writeAtomically(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// relocator rewrites paths relative to the original template's folder so
// that they are relative to the built template's.
type relocator struct{ from, to string }

func (r relocator) relocate(n *yaml.Node) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!str" || n.Value == "" ||
		filepath.IsAbs(n.Value) || strings.Contains(n.Value, "://") {
		return // an S3 location, an intrinsic or an absolute path
	}
	if rel, err := filepath.Rel(r.to, filepath.Join(r.from, n.Value)); err == nil {
		n.Value = filepath.ToSlash(rel)
	}
}

// lookup returns the value of key in mapping m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// properties returns a resource's Properties mapping, adding it if absent.
func properties(res *yaml.Node) *yaml.Node {
	if p := lookup(res, "Properties"); p != nil {
		return p
	}
	p := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	res.Content = append(res.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "Properties"}, p)
	return p
}

// set sets key to a string scalar in mapping m.
func set(m *yaml.Node, key, value string) {
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}
