package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"go.yaml.in/yaml/v3"
)

// shortTags maps CloudFormation's YAML short-form tags to the key of the
// long (JSON) form. Tags the resolver does not evaluate (!Cidr, !Transform,
// …) are still converted, so that the JSON form is faithful and the resolver
// can name them in its "unsupported intrinsic" error.
var shortTags = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!GetAtt":       "Fn::GetAtt",
	"!Sub":          "Fn::Sub",
	"!Join":         "Fn::Join",
	"!If":           "Fn::If",
	"!Equals":       "Fn::Equals",
	"!And":          "Fn::And",
	"!Or":           "Fn::Or",
	"!Not":          "Fn::Not",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!FindInMap":    "Fn::FindInMap",
	"!Base64":       "Fn::Base64",
	"!ImportValue":  "Fn::ImportValue",
	"!GetAZs":       "Fn::GetAZs",
	"!Cidr":         "Fn::Cidr",
	"!Transform":    "Fn::Transform",
	"!Length":       "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
}

// maxAliasDepth bounds alias expansion, so that a document built to expand
// exponentially ("billion laughs") fails instead of exhausting memory.
const maxAliasDepth = 64

// Decode parses a CloudFormation/SAM YAML (or JSON, which is YAML) template
// into plain Go values: map[string]any, []any, string, int, float64, bool and
// nil. Short-form tags become long-form intrinsics (!Ref X → {"Ref": "X"},
// !GetAtt A.B → {"Fn::GetAtt": ["A", "B"]}, !Sub s → {"Fn::Sub": s}, …),
// aliases are expanded and "<<" merge keys applied.
func Decode(data []byte) (map[string]any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, errors.New("empty template")
	}
	d := decoder{}
	v, err := d.node(root.Content[0], 0)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("line %d: template must be a mapping, got %s", root.Content[0].Line, kindOf(v))
	}
	return m, nil
}

// ToJSON converts a YAML template to JSON with long-form intrinsics, the
// shape CloudFormation and the published SAM JSON schema work on. Keys are
// emitted in sorted order.
func ToJSON(data []byte) ([]byte, error) {
	doc, err := Decode(data)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return buf.Bytes(), nil
}

type decoder struct{}

func (d decoder) node(n *yaml.Node, aliasDepth int) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		if aliasDepth >= maxAliasDepth {
			return nil, fmt.Errorf("line %d: aliases nested too deeply", n.Line)
		}
		return d.node(n.Alias, aliasDepth+1)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.node(n.Content[0], aliasDepth)
	}

	long, custom := "", false
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") && n.Tag != "!" {
		var ok bool
		long, ok = shortTags[n.Tag]
		if !ok {
			return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
		}
		custom = true
	}

	var v any
	var err error
	switch n.Kind {
	case yaml.MappingNode:
		v, err = d.mapping(n, aliasDepth)
	case yaml.SequenceNode:
		v, err = d.sequence(n, aliasDepth)
	case yaml.ScalarNode:
		if custom {
			v = n.Value
			if long == "Fn::GetAtt" {
				// !GetAtt Resource.Attribute.Maybe.Dotted → [Resource, Attribute.Maybe.Dotted]
				res, attr, ok := strings.Cut(n.Value, ".")
				if !ok {
					return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, n.Value)
				}
				v = []any{res, attr}
			}
		} else {
			v, err = scalar(n)
		}
	default:
		return nil, fmt.Errorf("line %d: unexpected yaml node kind %d", n.Line, n.Kind)
	}
	if err != nil {
		return nil, err
	}
	if custom {
		return map[string]any{long: v}, nil
	}
	return v, nil
}

func (d decoder) mapping(n *yaml.Node, aliasDepth int) (map[string]any, error) {
	m := make(map[string]any, len(n.Content)/2)
	var merges []map[string]any
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, vn := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!!merge") {
			src, err := d.node(vn, aliasDepth)
			if err != nil {
				return nil, err
			}
			switch src := src.(type) {
			case map[string]any:
				merges = append(merges, src)
			case []any:
				for _, s := range src {
					sm, ok := s.(map[string]any)
					if !ok {
						return nil, fmt.Errorf("line %d: merge key wants mappings", k.Line)
					}
					merges = append(merges, sm)
				}
			default:
				return nil, fmt.Errorf("line %d: merge key wants a mapping", k.Line)
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: mapping keys must be scalars", k.Line)
		}
		if _, dup := m[k.Value]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
		}
		v, err := d.node(vn, aliasDepth)
		if err != nil {
			return nil, err
		}
		m[k.Value] = v
	}
	// Explicit keys win over merged ones; earlier merge sources win over later.
	for _, src := range merges {
		for k, v := range src {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
	}
	return m, nil
}

func (d decoder) sequence(n *yaml.Node, aliasDepth int) ([]any, error) {
	l := make([]any, 0, len(n.Content))
	for _, c := range n.Content {
		v, err := d.node(c, aliasDepth)
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
	return l, nil
}

// scalar converts an untagged or core-tagged scalar. Timestamps and binary
// values stay strings (CloudFormation has no such types).
func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
			return n.Value, nil
		}
		return v, nil
	default:
		return n.Value, nil
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}
