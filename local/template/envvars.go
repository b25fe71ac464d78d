package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

// envVars is a parsed SAM CLI --env-vars file: function key (logical ID or
// FunctionName) → variables, plus the global "Parameters" entry.
type envVars struct {
	global    map[string]string
	functions map[string]map[string]string
}

// readEnvVarsFile reads a SAM CLI --env-vars JSON file:
//
//	{"ExtractFunction": {"LOG_LEVEL": "debug"}, "Parameters": {"STAGE": "local"}}
//
// Values are stringified as SAM CLI does: true → "true", numbers in decimal
// without exponent, null → "". Nested objects and lists are an error.
func readEnvVarsFile(path string) (*envVars, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("env vars file: %w", err)
	}
	ev, err := parseEnvVars(data)
	if err != nil {
		return nil, fmt.Errorf("env vars file %s: %w", path, err)
	}
	return ev, nil
}

func parseEnvVars(data []byte) (*envVars, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("want a JSON object of objects: %w", err)
	}
	ev := &envVars{functions: map[string]map[string]string{}}
	for _, key := range sortedKeys(top) {
		obj, ok := top[key].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: want an object of variables, got %s: %w", key, jsonKind(top[key]), ErrInvalid)
		}
		vars := make(map[string]string, len(obj))
		for _, name := range sortedKeys(obj) {
			s, err := envString(obj[name])
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", key, name, err)
			}
			vars[name] = s
		}
		if key == "Parameters" {
			ev.global = vars
		} else {
			ev.functions[key] = vars
		}
	}
	return ev, nil
}

func envString(v any) (string, error) {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
		f, err := v.Float64()
		if err != nil {
			return "", fmt.Errorf("number %s: %w", v, err)
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	default:
		if s, ok := scalarString(v); ok {
			return s, nil
		}
		return "", fmt.Errorf("value must be a string, number, boolean or null, got %s: %w", jsonKind(v), ErrInvalid)
	}
}

func jsonKind(v any) string {
	if _, ok := v.(json.Number); ok {
		return "a number"
	}
	return kindOf(v)
}

// applyEnv computes a function's final environment. Precedence, high to
// low: the env-vars file (the function's own entry, keyed by logical ID
// then FunctionName, over its "Parameters" entry), the process environment,
// the template. Like SAM CLI, only variables declared in the template's
// Environment.Variables are overridden; other keys are ignored.
func applyEnv(fn *Function, ev *envVars, lookup func(string) (string, bool)) {
	for name := range fn.Environment {
		if v, ok := lookup(name); ok {
			fn.Environment[name] = v
		}
	}
	if ev == nil {
		return
	}
	layers := []map[string]string{ev.global}
	if fn.FunctionName != "" && fn.FunctionName != fn.LogicalID {
		layers = append(layers, ev.functions[fn.FunctionName])
	}
	layers = append(layers, ev.functions[fn.LogicalID])
	for _, layer := range layers {
		for name, v := range layer {
			if _, declared := fn.Environment[name]; declared {
				fn.Environment[name] = v
			}
		}
	}
}
