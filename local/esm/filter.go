package esm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FilterCriteria for Kafka: a subset of EventBridge event patterns applied
// to the record value.
//
// Each pattern is a JSON object with the single key "value":
//
//	{"value": {"field": [rules], "nested": {"field": [rules]}}}  // JSON object values
//	{"value": [rules]}                                          // plain (non-JSON-object) values
//
// The record value is base64-decoded and must be valid UTF-8 (otherwise no
// pattern matches). If it is a JSON object, object patterns match its fields;
// otherwise it is a plain string and only rule-list patterns apply. A nil
// (null) value is an absent value: only {"exists": false} matches it.
//
// Rules (OR within a list; AND across the fields of an object; OR across
// patterns):
//
//	"text"                          exact string, byte for byte
//	42                              exact number, compared by its JSON text (300 ≠ 300.0)
//	true, false                     exact boolean
//	null                            the field is present and null
//	""                              the empty string
//	{"prefix": "ab"}                string prefix
//	{"suffix": "yz"}                string suffix
//	{"equals-ignore-case": "Ab"}    case-insensitive string equality
//	{"numeric": [">", 10, "<=", 20]} number comparison(s): <, <=, =, >, >=
//	{"exists": true|false}          field present / absent
//	{"anything-but": x}             present, not null and not equal to x (a string,
//	                                number, list of them, or {"prefix"|"suffix": s})
//
// A rule against a JSON array field matches if any element matches. An
// object pattern against an array of objects matches if any element does.

type filterSet struct {
	patterns []*patternNode // OR
}

// patternNode is either an object pattern (fields) or a rule list.
type patternNode struct {
	fields map[string]*patternNode // object pattern: AND over fields
	rules  []rule                  // leaf: OR over rules
}

func (n *patternNode) isObject() bool { return n.fields != nil }

type ruleKind uint8

const (
	ruleString ruleKind = iota
	ruleNumber
	ruleBool
	ruleNull
	rulePrefix
	ruleSuffix
	ruleEqualsIgnoreCase
	ruleNumeric
	ruleExists
	ruleAnythingBut
)

type numericCmp struct {
	op string
	n  float64
}

type rule struct {
	kind ruleKind
	str  string // string, number text, prefix, suffix, equals-ignore-case
	b    bool   // bool, exists
	cmps []numericCmp

	// anything-but
	butStrings []string
	butNumbers []string
	butPrefix  string
	butSuffix  string
	butAffix   bool // butPrefix or butSuffix is set
}

// Delivers returns whether the mapping's FilterCriteria deliver a record
// value (nil: a null value) to the function, for tools that check what a
// function was given, such as the chaos harness.
func (m Mapping) Delivers() (func(value []byte) bool, error) {
	fs, err := compileFilters(m.FilterPatterns)
	if err != nil {
		return nil, err
	}
	return fs.match, nil
}

// compileFilters parses FilterCriteria patterns. nil means "match all".
func compileFilters(patterns []string) (*filterSet, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	if len(patterns) > MaxFilters {
		return nil, fmt.Errorf("%d filter patterns, at most %d are allowed", len(patterns), MaxFilters)
	}
	fs := &filterSet{}
	for i, p := range patterns {
		n, err := compilePattern(p)
		if err != nil {
			return nil, fmt.Errorf("filter pattern %d %s: %w", i+1, p, err)
		}
		fs.patterns = append(fs.patterns, n)
	}
	return fs, nil
}

func compilePattern(src string) (*patternNode, error) {
	v, err := decodeJSON([]byte(src))
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("pattern must be a JSON object")
	}
	if len(top) == 0 {
		return nil, errors.New(`pattern is empty; Kafka filters need a "value" key`)
	}
	for k := range top {
		if k != "value" {
			return nil, fmt.Errorf(`key %q is not supported: Kafka event sources filter on "value" only`, k)
		}
	}
	return compileNode(top["value"], "value")
}

func compileNode(v any, path string) (*patternNode, error) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			return nil, fmt.Errorf("%s: empty object", path)
		}
		n := &patternNode{fields: make(map[string]*patternNode, len(v))}
		for k, sub := range v {
			c, err := compileNode(sub, path+"."+k)
			if err != nil {
				return nil, err
			}
			n.fields[k] = c
		}
		return n, nil
	case []any:
		if len(v) == 0 {
			return nil, fmt.Errorf("%s: empty rule list", path)
		}
		n := &patternNode{}
		for _, r := range v {
			cr, err := compileRule(r, path)
			if err != nil {
				return nil, err
			}
			n.rules = append(n.rules, cr)
		}
		return n, nil
	default:
		return nil, fmt.Errorf("%s: must be an object or a list of rules, got %s", path, jsonType(v))
	}
}

func compileRule(v any, path string) (rule, error) {
	switch v := v.(type) {
	case string:
		return rule{kind: ruleString, str: v}, nil
	case json.Number:
		return rule{kind: ruleNumber, str: v.String()}, nil
	case bool:
		return rule{kind: ruleBool, b: v}, nil
	case nil:
		return rule{kind: ruleNull}, nil
	case map[string]any:
		if len(v) != 1 {
			return rule{}, fmt.Errorf("%s: a rule object must have exactly one operator, got %d", path, len(v))
		}
		for op, arg := range v {
			return compileOperator(op, arg, path)
		}
	}
	return rule{}, fmt.Errorf("%s: unsupported rule of type %s", path, jsonType(v))
}

func compileOperator(op string, arg any, path string) (rule, error) {
	str := func() (string, error) {
		s, ok := arg.(string)
		if !ok {
			return "", fmt.Errorf("%s: %q needs a string, got %s", path, op, jsonType(arg))
		}
		return s, nil
	}
	switch op {
	case "prefix", "suffix", "equals-ignore-case":
		s, err := str()
		if err != nil {
			return rule{}, err
		}
		kind := map[string]ruleKind{"prefix": rulePrefix, "suffix": ruleSuffix, "equals-ignore-case": ruleEqualsIgnoreCase}[op]
		return rule{kind: kind, str: s}, nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return rule{}, fmt.Errorf("%s: \"exists\" needs true or false, got %s", path, jsonType(arg))
		}
		return rule{kind: ruleExists, b: b}, nil
	case "numeric":
		return compileNumeric(arg, path)
	case "anything-but":
		return compileAnythingBut(arg, path)
	}
	return rule{}, fmt.Errorf("%s: unsupported operator %q", path, op)
}

func compileNumeric(arg any, path string) (rule, error) {
	list, ok := arg.([]any)
	if !ok || (len(list) != 2 && len(list) != 4) {
		return rule{}, fmt.Errorf(`%s: "numeric" needs [op, number] or [op, number, op, number]`, path)
	}
	r := rule{kind: ruleNumeric}
	for i := 0; i < len(list); i += 2 {
		op, ok := list[i].(string)
		if !ok {
			return rule{}, fmt.Errorf(`%s: "numeric" operator must be a string, got %s`, path, jsonType(list[i]))
		}
		switch op {
		case "<", "<=", "=", ">", ">=":
		default:
			return rule{}, fmt.Errorf(`%s: "numeric" operator %q is not <, <=, =, > or >=`, path, op)
		}
		num, ok := list[i+1].(json.Number)
		if !ok {
			return rule{}, fmt.Errorf(`%s: "numeric" operand must be a number, got %s`, path, jsonType(list[i+1]))
		}
		f, err := num.Float64()
		if err != nil {
			return rule{}, fmt.Errorf(`%s: "numeric" operand %s: %w`, path, num, err)
		}
		r.cmps = append(r.cmps, numericCmp{op: op, n: f})
	}
	if len(r.cmps) == 2 && (r.cmps[0].op == "=" || r.cmps[1].op == "=") {
		return rule{}, fmt.Errorf(`%s: "numeric" with "=" takes a single comparison`, path)
	}
	return r, nil
}

func compileAnythingBut(arg any, path string) (rule, error) {
	r := rule{kind: ruleAnythingBut}
	addScalar := func(v any) error {
		switch v := v.(type) {
		case string:
			r.butStrings = append(r.butStrings, v)
		case json.Number:
			r.butNumbers = append(r.butNumbers, v.String())
		default:
			return fmt.Errorf(`%s: "anything-but" values must be strings or numbers, got %s`, path, jsonType(v))
		}
		return nil
	}
	switch v := arg.(type) {
	case []any:
		if len(v) == 0 {
			return rule{}, fmt.Errorf(`%s: "anything-but" list is empty`, path)
		}
		for _, e := range v {
			if err := addScalar(e); err != nil {
				return rule{}, err
			}
		}
	case map[string]any:
		if len(v) != 1 {
			return rule{}, fmt.Errorf(`%s: "anything-but" object needs exactly one of "prefix" or "suffix"`, path)
		}
		for op, a := range v {
			s, ok := a.(string)
			if !ok {
				return rule{}, fmt.Errorf(`%s: "anything-but" %q needs a string`, path, op)
			}
			switch op {
			case "prefix":
				r.butPrefix = s
			case "suffix":
				r.butSuffix = s
			default:
				return rule{}, fmt.Errorf(`%s: "anything-but" operator %q is not "prefix" or "suffix"`, path, op)
			}
			r.butAffix = true
		}
	default:
		if err := addScalar(v); err != nil {
			return rule{}, err
		}
	}
	return r, nil
}

// match reports whether a record value is delivered. value nil means a null
// Kafka value.
func (fs *filterSet) match(value []byte) bool {
	if fs == nil {
		return true
	}
	if value != nil && !utf8.Valid(value) {
		return false
	}
	var (
		obj      map[string]any
		isObject bool
	)
	if value != nil {
		if t := bytes.TrimLeft(value, " \t\r\n"); len(t) > 0 && t[0] == '{' {
			if v, err := decodeJSON(value); err == nil {
				obj, isObject = v.(map[string]any)
			}
		}
	}
	for _, p := range fs.patterns {
		switch {
		case value == nil:
			if p.isObject() {
				if matchObject(p, nil) {
					return true
				}
			} else if matchRules(p.rules, nil, false) {
				return true
			}
		case isObject:
			if p.isObject() && matchObject(p, obj) {
				return true
			}
		default: // plain string
			if !p.isObject() && matchRules(p.rules, string(value), true) {
				return true
			}
		}
	}
	return false
}

func matchObject(p *patternNode, obj map[string]any) bool {
	for k, sub := range p.fields {
		v, present := obj[k]
		if !matchField(sub, v, present) {
			return false
		}
	}
	return true
}

func matchField(p *patternNode, v any, present bool) bool {
	if !p.isObject() {
		return matchRules(p.rules, v, present)
	}
	switch v := v.(type) {
	case map[string]any:
		return matchObject(p, v)
	case []any:
		for _, e := range v {
			if o, ok := e.(map[string]any); ok && matchObject(p, o) {
				return true
			}
		}
		return false
	}
	if !present {
		// A missing parent: only exists:false leaves can hold.
		return matchObject(p, nil)
	}
	return false
}

func matchRules(rules []rule, v any, present bool) bool {
	for i := range rules {
		r := &rules[i]
		if r.kind == ruleExists {
			if r.b == present {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if r.matchScalar(e) {
					return true
				}
			}
			continue
		}
		if r.matchScalar(v) {
			return true
		}
	}
	return false
}

func (r *rule) matchScalar(v any) bool {
	switch r.kind {
	case ruleString:
		s, ok := v.(string)
		return ok && s == r.str
	case ruleNumber:
		n, ok := v.(json.Number)
		return ok && n.String() == r.str
	case ruleBool:
		b, ok := v.(bool)
		return ok && b == r.b
	case ruleNull:
		return v == nil
	case rulePrefix:
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, r.str)
	case ruleSuffix:
		s, ok := v.(string)
		return ok && strings.HasSuffix(s, r.str)
	case ruleEqualsIgnoreCase:
		s, ok := v.(string)
		return ok && strings.EqualFold(s, r.str)
	case ruleNumeric:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil {
			return false
		}
		for _, c := range r.cmps {
			var ok bool
			switch c.op {
			case "<":
				ok = f < c.n
			case "<=":
				ok = f <= c.n
			case "=":
				ok = f == c.n
			case ">":
				ok = f > c.n
			case ">=":
				ok = f >= c.n
			}
			if !ok {
				return false
			}
		}
		return true
	case ruleAnythingBut:
		switch v := v.(type) {
		case string:
			if r.butAffix {
				return !(r.butPrefix != "" && strings.HasPrefix(v, r.butPrefix)) &&
					!(r.butSuffix != "" && strings.HasSuffix(v, r.butSuffix))
			}
			for _, s := range r.butStrings {
				if v == s {
					return false
				}
			}
			return true
		case json.Number:
			if r.butAffix {
				return true
			}
			for _, s := range r.butNumbers {
				if v.String() == s {
					return false
				}
			}
			return true
		case nil:
			return false
		default:
			return true
		}
	}
	return false
}

// decodeJSON decodes one JSON value with numbers kept as json.Number and
// rejects trailing data.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
