package template

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/dlclark/regexp2"
)

// paramValue is a resolved template parameter: a string for String, Number
// and AWS-specific types, a list for CommaDelimitedList and List<…>.
type paramValue struct {
	str    string
	list   []string
	isList bool
}

func (p paramValue) value() any {
	if p.isList {
		l := make([]any, len(p.list))
		for i, s := range p.list {
			l[i] = s
		}
		return l
	}
	return p.str
}

func (p paramValue) String() string {
	if p.isList {
		return strings.Join(p.list, ",")
	}
	return p.str
}

// resolveParameters applies overrides to the Parameters section and validates
// every value against its declaration. It returns the values and warnings.
func resolveParameters(section any, overrides map[string]string) (map[string]paramValue, []string, error) {
	out := map[string]paramValue{}
	if section == nil {
		if len(overrides) > 0 {
			return nil, nil, fmt.Errorf("parameter overrides %s: template has no Parameters: %w", strings.Join(sortedKeys(overrides), ", "), ErrParameter)
		}
		return out, nil, nil
	}
	decls, ok := section.(map[string]any)
	if !ok {
		return nil, nil, invalidf("Parameters", "must be a mapping, got %s", kindOf(section))
	}
	var unknown []string
	for k := range overrides {
		if _, ok := decls[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, nil, fmt.Errorf("parameter overrides %s: no such parameter in the template: %w", strings.Join(unknown, ", "), ErrParameter)
	}

	var warnings []string
	for _, name := range sortedKeys(decls) {
		path := "Parameters." + name
		decl, ok := decls[name].(map[string]any)
		if !ok {
			return nil, nil, invalidf(path, "must be a mapping")
		}
		typ, _ := decl["Type"].(string)
		if typ == "" {
			return nil, nil, invalidf(path+".Type", "missing")
		}
		raw, ok := overrides[name]
		if !ok {
			def, has := decl["Default"]
			if pv, ok := placeholder(typ); !has && ok {
				out[name] = pv
				continue
			}
			if !has {
				return nil, nil, fmt.Errorf("%s: no value: give it a Default or pass --parameter-overrides %s=…: %w", path, name, ErrParameter)
			}
			raw, ok = scalarString(def)
			if !ok {
				if l, isList := def.([]any); isList && isListType(typ) {
					// CloudFormation wants a comma-separated string; accept a YAML list too.
					parts := make([]string, 0, len(l))
					for _, e := range l {
						s, _ := scalarString(e)
						parts = append(parts, s)
					}
					raw = strings.Join(parts, ",")
				} else {
					return nil, nil, invalidf(path+".Default", "must be a scalar, got %s", kindOf(def))
				}
			}
		}
		pv, err := checkParameter(path, typ, raw, decl)
		if err != nil {
			return nil, nil, err
		}
		if strings.HasPrefix(typ, "AWS::SSM::Parameter::") {
			warnings = append(warnings, fmt.Sprintf("%s: %s is not looked up in SSM locally; using %q as the value", path, typ, raw))
		}
		out[name] = pv
	}
	return out, warnings, nil
}

func isListType(typ string) bool {
	return typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") ||
		strings.HasPrefix(typ, "AWS::SSM::Parameter::Value<List<") ||
		strings.HasPrefix(typ, "AWS::SSM::Parameter::Value<CommaDelimitedList")
}

// checkParameter converts raw by type and applies AllowedValues,
// AllowedPattern, Min/MaxLength and Min/MaxValue.
func checkParameter(path, typ, raw string, decl map[string]any) (paramValue, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: value %q %s: %w", path, raw, fmt.Sprintf(format, args...), ErrParameter)
	}
	var pv paramValue
	var values []string
	if isListType(typ) {
		pv.isList = true
		if raw != "" {
			for _, s := range strings.Split(raw, ",") {
				pv.list = append(pv.list, strings.TrimSpace(s))
			}
		} else {
			pv.list = []string{}
		}
		values = pv.list
	} else {
		pv.str = raw
		values = []string{raw}
	}

	numeric := typ == "Number" || typ == "List<Number>"
	if numeric {
		for _, v := range values {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return pv, bad("is not a number (Type %s)", typ)
			}
		}
	}
	if av, ok := decl["AllowedValues"]; ok {
		list, ok := av.([]any)
		if !ok {
			return pv, invalidf(path+".AllowedValues", "must be a list")
		}
		allowed := make([]string, 0, len(list))
		for _, a := range list {
			s, _ := scalarString(a)
			allowed = append(allowed, s)
		}
		for _, v := range values {
			if !slices.Contains(allowed, v) {
				return pv, bad("is not one of AllowedValues [%s]", strings.Join(allowed, ", "))
			}
		}
	}
	if ap, ok := decl["AllowedPattern"].(string); ok && !numeric {
		// CloudFormation patterns are Java regexps matched against the whole value.
		re, err := regexp2.Compile(`^(?:`+ap+`)$`, regexp2.None)
		if err != nil {
			return pv, invalidf(path+".AllowedPattern", "%v", err)
		}
		for _, v := range values {
			if ok, _ := re.MatchString(v); !ok {
				return pv, bad("does not match AllowedPattern %s", ap)
			}
		}
	}
	for _, lim := range []struct {
		key  string
		fail func(limit float64, v string) bool
		msg  string
	}{
		{"MinLength", func(l float64, v string) bool { return !numeric && float64(len([]rune(v))) < l }, "is shorter than MinLength"},
		{"MaxLength", func(l float64, v string) bool { return !numeric && float64(len([]rune(v))) > l }, "is longer than MaxLength"},
		{"MinValue", func(l float64, v string) bool { f, _ := strconv.ParseFloat(v, 64); return numeric && f < l }, "is below MinValue"},
		{"MaxValue", func(l float64, v string) bool { f, _ := strconv.ParseFloat(v, 64); return numeric && f > l }, "is above MaxValue"},
	} {
		raw, ok := decl[lim.key]
		if !ok {
			continue
		}
		l, ok := toFloat(raw)
		if !ok {
			return pv, invalidf(path+"."+lim.key, "must be a number")
		}
		for _, v := range values {
			if lim.fail(l, v) {
				return pv, bad("%s %v", lim.msg, raw)
			}
		}
	}
	return pv, nil
}

// ParseParameterOverrides parses SAM CLI's --parameter-overrides syntax:
// space-separated Key=Value pairs, or ParameterKey=Key,ParameterValue=Value
// items (the two may be mixed). Values may be wrapped in double or single
// quotes to hold spaces; outside single quotes a backslash escapes the next
// character. A later pair for the same key wins.
func ParseParameterOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	toks, err := splitOverrides(s)
	if err != nil {
		return nil, err
	}
	for _, tok := range toks {
		var key, val string
		if rest, ok := strings.CutPrefix(tok.text, "ParameterKey="); ok {
			k, v, found := strings.Cut(rest, ",ParameterValue=")
			if !found {
				return nil, fmt.Errorf("parameter override %q: want ParameterKey=Key,ParameterValue=Value: %w", tok.raw, ErrParameter)
			}
			key, val = k, v
		} else {
			k, v, found := strings.Cut(tok.text, "=")
			if !found {
				return nil, fmt.Errorf("parameter override %q: want Key=Value: %w", tok.raw, ErrParameter)
			}
			key, val = k, v
		}
		if !IsLogicalID(key) {
			return nil, fmt.Errorf("parameter override %q: parameter names are alphanumeric: %w", tok.raw, ErrParameter)
		}
		out[key] = val
	}
	return out, nil
}

type overrideToken struct{ raw, text string }

// splitOverrides splits on unquoted whitespace and removes quoting.
func splitOverrides(s string) ([]overrideToken, error) {
	var toks []overrideToken
	var text strings.Builder
	start, inTok := 0, false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if quote == 0 && unicode.IsSpace(r) {
			if inTok {
				toks = append(toks, overrideToken{raw: string(rs[start:i]), text: text.String()})
				text.Reset()
				inTok = false
			}
			continue
		}
		if !inTok {
			start, inTok = i, true
		}
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				text.WriteRune(r)
			}
		case r == '\\' && i+1 < len(rs):
			i++
			text.WriteRune(rs[i])
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				text.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote = r
		default:
			text.WriteRune(r)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("parameter overrides %q: unterminated %c quote: %w", s, quote, ErrParameter)
	}
	if inTok {
		toks = append(toks, overrideToken{raw: string(rs[start:]), text: text.String()})
	}
	return toks, nil
}

// IsLogicalID reports whether s is a valid CloudFormation logical ID or
// parameter name: one or more ASCII letters and digits. The build checks
// its targets with it too, since an ID becomes a make target and a path.
func IsLogicalID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
