package template

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// globalsAllowed lists, per Globals section this package applies, the
// properties SAM accepts there: the union of SAM's globals plugin list and
// the published SAM schema. Anything else (Events, FunctionName, Role,
// Policies for functions; StageName, DefinitionBody, DefinitionUri for
// HTTP APIs) is an error, as in `sam validate`.
var globalsAllowed = map[string][]string{
	"Function": {
		"Architectures", "AssumeRolePolicyDocument", "AutoPublishAlias", "AutoPublishCodeSha256",
		"CapacityProviderConfig", "CodeUri", "DeadLetterQueue", "DeploymentPreference", "Description",
		"DurableConfig", "Environment", "EphemeralStorage", "EventInvokeConfig", "FileSystemConfigs",
		"FunctionScalingConfig", "Handler", "KmsKeyArn", "Layers", "LoggingConfig", "MemorySize",
		"PermissionsBoundary", "PropagateTags", "ProvisionedConcurrencyConfig", "PublishToLatestPublished",
		"RecursiveLoop", "ReservedConcurrentExecutions", "RolePath", "Runtime", "RuntimeManagementConfig",
		"SnapStart", "SourceKMSKeyArn", "Tags", "TenancyConfig", "Timeout", "Tracing",
		"VersionDeletionPolicy", "VpcConfig",
	},
	"HttpApi": {
		"AccessLogSettings", "Auth", "CorsConfiguration", "DefaultRouteSettings", "Domain",
		"FailOnWarnings", "PropagateTags", "RouteSettings", "StageVariables", "Tags",
	},
}

// globalsSections are the Globals sections SAM knows. Only Function and
// HttpApi are applied here; the others are accepted and ignored because the
// emulator does not use those resource types.
var globalsSections = []string{"Api", "CapacityProvider", "Function", "HttpApi", "LayerVersion", "SimpleTable", "StateMachine", "WebSocketApi"}

// parseGlobals validates the Globals section and returns the Function and
// HttpApi property maps (nil when absent).
func parseGlobals(v any) (fn, httpAPI map[string]any, err error) {
	if v == nil {
		return nil, nil, nil
	}
	g, ok := v.(map[string]any)
	if !ok {
		return nil, nil, invalidf("Globals", "must be a mapping, got %s", kindOf(v))
	}
	out := map[string]map[string]any{}
	for _, section := range sortedKeys(g) {
		path := "Globals." + section
		if !slices.Contains(globalsSections, section) {
			return nil, nil, invalidf(path, "unknown Globals section (SAM supports %s)", strings.Join(globalsSections, ", "))
		}
		props, ok := g[section].(map[string]any)
		if !ok {
			return nil, nil, invalidf(path, "must be a mapping, got %s", kindOf(g[section]))
		}
		allowed, applied := globalsAllowed[section]
		if !applied {
			continue
		}
		var bad []string
		for k := range props {
			if !slices.Contains(allowed, k) {
				bad = append(bad, k)
			}
		}
		if len(bad) > 0 {
			sort.Strings(bad)
			return nil, nil, invalidf(path, "%s not allowed in Globals (set it on each resource)", strings.Join(bad, ", "))
		}
		out[section] = props
	}
	return out["Function"], out["HttpApi"], nil
}

// applyGlobals merges globals into a resource's Properties following SAM's
// rules: primitives and intrinsics from the resource replace the global;
// mappings merge recursively with resource keys winning; lists concatenate,
// global entries first; on a type mismatch the resource value wins.
// ignore holds the resource's IgnoreGlobals: "*" skips every global.
func applyGlobals(globals, props map[string]any, ignore []string) map[string]any {
	if len(globals) == 0 || slices.Contains(ignore, "*") {
		return props
	}
	g := make(map[string]any, len(globals))
	for k, v := range globals {
		if !slices.Contains(ignore, k) {
			g[k] = v
		}
	}
	if props == nil {
		props = map[string]any{}
	}
	return mergeValue(g, props).(map[string]any)
}

func mergeValue(global, local any) any {
	if isIntrinsic(global) || isIntrinsic(local) {
		return local
	}
	switch g := global.(type) {
	case map[string]any:
		l, ok := local.(map[string]any)
		if !ok {
			return local
		}
		out := make(map[string]any, len(g)+len(l))
		for k, v := range g {
			out[k] = v
		}
		for k, lv := range l {
			if gv, ok := g[k]; ok {
				out[k] = mergeValue(gv, lv)
			} else {
				out[k] = lv
			}
		}
		return out
	case []any:
		l, ok := local.([]any)
		if !ok {
			return local
		}
		out := make([]any, 0, len(g)+len(l))
		return append(append(out, g...), l...)
	default:
		return local
	}
}

// ignoreGlobals reads the IgnoreGlobals resource attribute ("*" or a list
// of property names).
func ignoreGlobals(res map[string]any, path string) ([]string, error) {
	switch v := res["IgnoreGlobals"].(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, invalidf(path+".IgnoreGlobals", "must be \"*\" or a list of property names")
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s.IgnoreGlobals: must be \"*\" or a list of property names: %w", path, ErrInvalid)
	}
}
