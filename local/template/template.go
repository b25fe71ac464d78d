package template

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// serverlessTransform is the Transform a template must declare for
// AWS::Serverless::* resources to exist.
const serverlessTransform = "AWS::Serverless-2016-10-31"

// Implicit resources SAM generates when an event does not name its API.
const (
	ImplicitHTTPAPI = "ServerlessHttpApi" // for HttpApi events without ApiId; stage $default
	ImplicitRestAPI = "ServerlessRestApi" // for Api events without RestApiId; stage Prod
)

// Options configures Load. The zero value loads with SAM CLI's defaults.
type Options struct {
	// ParameterOverrides replaces template parameter values, as SAM CLI's
	// --parameter-overrides (see ParseParameterOverrides). Naming a
	// parameter the template does not declare is an error.
	ParameterOverrides map[string]string
	// EnvVarsFile is a SAM CLI --env-vars JSON file. Default: none.
	EnvVarsFile string
	// LookupEnv reads the process environment, which overrides declared
	// environment variables (SAM CLI's shell-env rule). Default: os.LookupEnv.
	// Tests pass a map-backed function.
	LookupEnv func(key string) (string, bool)
	// Pseudo sets pseudo-parameter values; zero fields take the defaults.
	Pseudo Pseudo
}

// Template is a loaded, resolved SAM template: what the emulator runs.
type Template struct {
	Path string // absolute path of template.yaml
	Dir  string // directory holding it; CodeUri is relative to it
	// Pseudo are the pseudo-parameter values used for resolution.
	Pseudo Pseudo
	// Parameters are the resolved template parameters (overrides applied,
	// list types joined with commas).
	Parameters map[string]string
	// Functions are the AWS::Serverless::Function resources whose
	// Condition (if any) holds, sorted by logical ID.
	Functions []*Function
	// APIs are the AWS::Serverless::HttpApi and AWS::Serverless::Api
	// resources plus the implicit ones SAM generates, sorted by logical ID.
	APIs []*API
	// Warnings are things that loaded but will not behave as in AWS
	// (placeholder values, ignored settings). The emulator should log them.
	Warnings []string
}

// Function returns the function whose logical ID or FunctionName is name,
// or nil.
func (t *Template) Function(name string) *Function {
	for _, f := range t.Functions {
		if f.LogicalID == name {
			return f
		}
	}
	for _, f := range t.Functions {
		if f.FunctionName != "" && f.FunctionName == name {
			return f
		}
	}
	return nil
}

// API returns the API with the given logical ID, or nil.
func (t *Template) API(logicalID string) *API {
	for _, a := range t.APIs {
		if a.LogicalID == logicalID {
			return a
		}
	}
	return nil
}

// API is an API Gateway API that routes events to functions.
type API struct {
	LogicalID string
	// Type is "HttpApi" (AWS::Serverless::HttpApi) or "Api"
	// (AWS::Serverless::Api, a REST API).
	Type string
	// StageName is the stage in request contexts. Default: "$default" for
	// HTTP APIs, "Prod" for the implicit REST API.
	StageName string
	// Implicit is true for ServerlessHttpApi/ServerlessRestApi when the
	// template does not declare them.
	Implicit bool
	// CORS is the HTTP API's CorsConfiguration (Globals.HttpApi merged), or
	// nil when CORS is off. Not read for REST APIs.
	CORS *CORS
}

// CORS is an HTTP API CorsConfiguration. CorsConfiguration: true means
// every origin, method and header.
type CORS struct {
	AllowOrigins     []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	AllowCredentials bool
	MaxAge           int // seconds; 0 = unset
}

// Load reads and resolves the SAM template at path. Errors name the file
// and the property path, and wrap ErrUnsupported, ErrParameter or
// ErrInvalid where they apply.
func Load(path string, opts Options) (*Template, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	doc, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	t, err := load(doc, abs, opts)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	return t, nil
}

type loader struct {
	doc      map[string]any
	dir      string
	r        *resolver
	resTypes map[string]string // declared resources only
	warnings []string
}

func (l *loader) warn(s string) { l.warnings = append(l.warnings, s) }

func load(doc map[string]any, abs string, opts Options) (*Template, error) {
	l := &loader{doc: doc, dir: filepath.Dir(abs), resTypes: map[string]string{}}
	t := &Template{Path: abs, Dir: l.dir, Pseudo: opts.Pseudo.withDefaults()}

	params, warnings, err := resolveParameters(doc["Parameters"], opts.ParameterOverrides)
	if err != nil {
		return nil, err
	}
	l.warnings = append(l.warnings, warnings...)
	t.Parameters = make(map[string]string, len(params))
	for k, v := range params {
		t.Parameters[k] = v.String()
	}

	resources, err := l.resources()
	if err != nil {
		return nil, err
	}
	if err := l.checkTransform(); err != nil {
		return nil, err
	}
	conditions, _ := doc["Conditions"].(map[string]any)
	if c, ok := doc["Conditions"]; ok && conditions == nil && c != nil {
		return nil, invalidf("Conditions", "must be a mapping")
	}
	mappings, _ := doc["Mappings"].(map[string]any)
	if m, ok := doc["Mappings"]; ok && mappings == nil && m != nil {
		return nil, invalidf("Mappings", "must be a mapping")
	}
	all := make(map[string]string, len(l.resTypes)+4)
	for id, typ := range l.resTypes {
		all[id] = typ
		if typ == "AWS::Serverless::Function" {
			if _, hasRole := propsOf(resources[id])["Role"]; !hasRole {
				all[id+"Role"] = "AWS::IAM::Role" // SAM's generated execution role
			}
		}
	}
	for id, typ := range map[string]string{ImplicitHTTPAPI: "AWS::Serverless::HttpApi", ImplicitRestAPI: "AWS::Serverless::Api"} {
		if _, ok := all[id]; !ok {
			all[id] = typ
		}
	}
	l.r = &resolver{
		params: params, pseudo: t.Pseudo, conditions: conditions, mappings: mappings, resources: all,
		condValue: map[string]bool{}, condBusy: map[string]bool{}, warn: l.warn,
	}

	fnGlobals, apiGlobals, err := parseGlobals(doc["Globals"])
	if err != nil {
		return nil, err
	}

	var ev *envVars
	if opts.EnvVarsFile != "" {
		if ev, err = readEnvVarsFile(opts.EnvVarsFile); err != nil {
			return nil, err
		}
	}
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}

	for _, id := range sortedKeys(resources) {
		res := resources[id]
		var active bool
		switch l.resTypes[id] {
		case "AWS::Serverless::Function", "AWS::Serverless::HttpApi", "AWS::Serverless::Api":
			if active, err = l.resourceCondition(id, res); err != nil {
				return nil, err
			}
		case "AWS::Lambda::Function":
			l.warn(fmt.Sprintf("Resources.%s: AWS::Lambda::Function is not emulated; declare it as AWS::Serverless::Function", id))
		}
		if !active {
			continue
		}
		switch l.resTypes[id] {
		case "AWS::Serverless::Function":
			fn, err := l.function(id, res, fnGlobals)
			if err != nil {
				return nil, err
			}
			applyEnv(fn, ev, lookup)
			t.Functions = append(t.Functions, fn)
		case "AWS::Serverless::HttpApi":
			api, err := l.httpAPI(id, res, apiGlobals, false)
			if err != nil {
				return nil, err
			}
			t.APIs = append(t.APIs, api)
		case "AWS::Serverless::Api":
			api, err := l.restAPI(id, res)
			if err != nil {
				return nil, err
			}
			t.APIs = append(t.APIs, api)
		}
	}

	if err := l.linkAPIs(t, apiGlobals); err != nil {
		return nil, err
	}
	t.Warnings = l.warnings
	return t, nil
}

// resources validates the Resources section and records resource types.
func (l *loader) resources() (map[string]map[string]any, error) {
	raw, ok := l.doc["Resources"]
	if !ok {
		return nil, invalidf("Resources", "missing")
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, invalidf("Resources", "must be a mapping, got %s", kindOf(raw))
	}
	out := make(map[string]map[string]any, len(m))
	for id, v := range m {
		path := "Resources." + id
		if !IsLogicalID(id) {
			return nil, invalidf(path, "logical IDs must be alphanumeric")
		}
		res, ok := v.(map[string]any)
		if !ok {
			return nil, invalidf(path, "must be a mapping, got %s", kindOf(v))
		}
		typ, ok := res["Type"].(string)
		if !ok || typ == "" {
			return nil, invalidf(path+".Type", "missing")
		}
		if p, ok := res["Properties"]; ok && p != nil {
			if _, ok := p.(map[string]any); !ok {
				return nil, invalidf(path+".Properties", "must be a mapping, got %s", kindOf(p))
			}
		}
		l.resTypes[id] = typ
		out[id] = res
	}
	return out, nil
}

func propsOf(res map[string]any) map[string]any {
	p, _ := res["Properties"].(map[string]any)
	return p
}

func (l *loader) checkTransform() error {
	var transforms []any
	switch v := l.doc["Transform"].(type) {
	case string:
		transforms = []any{v}
	case []any:
		transforms = v
	}
	if slices.Contains(transforms, any(serverlessTransform)) {
		return nil
	}
	for id, typ := range l.resTypes {
		if strings.HasPrefix(typ, "AWS::Serverless::") {
			return invalidf("Transform", "Resources.%s is %s, which needs Transform: %s", id, typ, serverlessTransform)
		}
	}
	return nil
}

// resourceCondition evaluates the resource attribute Condition.
func (l *loader) resourceCondition(id string, res map[string]any) (bool, error) {
	c, ok := res["Condition"]
	if !ok {
		return true, nil
	}
	name, ok := c.(string)
	if !ok {
		return false, invalidf("Resources."+id+".Condition", "must be a condition name")
	}
	return l.r.condition(name, "Resources."+id+".Condition")
}

// prop resolves one property. present is false when the key is absent or
// resolves to AWS::NoValue.
func (l *loader) prop(props map[string]any, key, path string) (v any, present bool, err error) {
	raw, ok := props[key]
	if !ok {
		return nil, false, nil
	}
	v, err = l.r.resolve(raw, joinPath(path, key))
	if err != nil {
		return nil, false, err
	}
	if _, ok := v.(noValue); ok {
		return nil, false, nil
	}
	return v, true, nil
}

func (l *loader) stringProp(props map[string]any, key, path string) (string, error) {
	v, ok, err := l.prop(props, key, path)
	if err != nil || !ok {
		return "", err
	}
	s, ok := scalarString(v)
	if !ok {
		return "", invalidf(joinPath(path, key), "must be a string, got %s", kindOf(v))
	}
	return s, nil
}

// intProp resolves an integer property; def is returned when absent.
func (l *loader) intProp(props map[string]any, key, path string, def, min, max int) (int, error) {
	v, ok, err := l.prop(props, key, path)
	if err != nil || !ok {
		return def, err
	}
	i, ok := toInt(v)
	if !ok {
		return 0, invalidf(joinPath(path, key), "must be an integer, got %v", v)
	}
	if i < min || i > max {
		return 0, invalidf(joinPath(path, key), "%d out of range %d..%d", i, min, max)
	}
	return i, nil
}

// stringList resolves a list of strings; nested lists (from Fn::Split or a
// list parameter) are flattened.
func (l *loader) stringList(props map[string]any, key, path string) ([]string, bool, error) {
	v, ok, err := l.prop(props, key, path)
	if err != nil || !ok {
		return nil, ok, err
	}
	list, isList := v.([]any)
	if !isList {
		if s, ok := v.(string); ok {
			list = []any{s}
		} else {
			return nil, true, invalidf(joinPath(path, key), "must be a list of strings, got %s", kindOf(v))
		}
	}
	var out []string
	for i, e := range list {
		if inner, ok := e.([]any); ok {
			for _, x := range inner {
				s, ok := scalarString(x)
				if !ok {
					return nil, true, invalidf(joinPath(joinPath(path, key), i), "must be a string, got %s", kindOf(x))
				}
				out = append(out, s)
			}
			continue
		}
		s, ok := scalarString(e)
		if !ok || e == nil {
			return nil, true, invalidf(joinPath(joinPath(path, key), i), "must be a string, got %s", kindOf(e))
		}
		out = append(out, s)
	}
	return out, true, nil
}

func (l *loader) httpAPI(id string, res, globals map[string]any, implicit bool) (*API, error) {
	path := "Resources." + id
	ignore, err := ignoreGlobals(res, path)
	if err != nil {
		return nil, err
	}
	props := applyGlobals(globals, propsOf(res), ignore)
	pp := path + ".Properties"
	api := &API{LogicalID: id, Type: "HttpApi", Implicit: implicit}
	if api.StageName, err = l.stringProp(props, "StageName", pp); err != nil {
		return nil, err
	}
	if api.StageName == "" {
		api.StageName = "$default"
	}
	v, ok, err := l.prop(props, "CorsConfiguration", pp)
	if err != nil || !ok {
		return api, err
	}
	cpath := pp + ".CorsConfiguration"
	if b, isBool := toBool(v); isBool {
		if b {
			api.CORS = &CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}}
		}
		return api, nil
	}
	c, isMap := v.(map[string]any)
	if !isMap {
		return nil, invalidf(cpath, "must be a boolean or a mapping, got %s", kindOf(v))
	}
	cors := &CORS{}
	for key, dst := range map[string]*[]string{
		"AllowOrigins": &cors.AllowOrigins, "AllowMethods": &cors.AllowMethods,
		"AllowHeaders": &cors.AllowHeaders, "ExposeHeaders": &cors.ExposeHeaders,
	} {
		if *dst, _, err = l.stringList(c, key, cpath); err != nil {
			return nil, err
		}
	}
	if b, ok := c["AllowCredentials"]; ok {
		if cors.AllowCredentials, ok = toBool(b); !ok {
			return nil, invalidf(cpath+".AllowCredentials", "must be a boolean")
		}
	}
	if cors.MaxAge, err = l.intProp(c, "MaxAge", cpath, 0, -1, 86400); err != nil {
		return nil, err
	}
	api.CORS = cors
	return api, nil
}

func (l *loader) restAPI(id string, res map[string]any) (*API, error) {
	pp := "Resources." + id + ".Properties"
	stage, err := l.stringProp(propsOf(res), "StageName", pp)
	if err != nil {
		return nil, err
	}
	if stage == "" {
		return nil, invalidf(pp+".StageName", "required for AWS::Serverless::Api")
	}
	return &API{LogicalID: id, Type: "Api", StageName: stage}, nil
}

// linkAPIs checks that every HTTP event names an API of the right type,
// adds the implicit APIs that events use, and rejects duplicate routes.
func (l *loader) linkAPIs(t *Template, apiGlobals map[string]any) error {
	type routeKey struct{ api, method, path string }
	seen := map[routeKey]string{}
	for _, fn := range t.Functions {
		for _, ev := range fn.HTTPEvents {
			path := "Resources." + fn.LogicalID + ".Properties.Events." + ev.Name
			api := t.API(ev.APIID)
			if api == nil {
				switch {
				case ev.APIID == ImplicitHTTPAPI && l.resTypes[ev.APIID] == "":
					a, err := l.httpAPI(ImplicitHTTPAPI, map[string]any{}, apiGlobals, true)
					if err != nil {
						return err
					}
					api = a
				case ev.APIID == ImplicitRestAPI && l.resTypes[ev.APIID] == "":
					api = &API{LogicalID: ImplicitRestAPI, Type: "Api", StageName: "Prod", Implicit: true}
				default:
					return invalidf(path, "%s: no active %s resource %s in the template", ev.Type, wantAPIType(ev.Type), ev.APIID)
				}
				t.APIs = append(t.APIs, api)
			}
			if api.Type != ev.Type {
				return invalidf(path, "%s event refers to %s, which is %s", ev.Type, ev.APIID, wantAPIType(api.Type))
			}
			key := routeKey{ev.APIID, ev.Method, ev.Path}
			if prev, dup := seen[key]; dup {
				route := ev.Method + " " + ev.Path
				if ev.Path == "" {
					route = "$default"
				}
				return invalidf(path, "route %s on %s is also declared by %s", route, ev.APIID, prev)
			}
			seen[key] = path
		}
	}
	sort.Slice(t.APIs, func(i, j int) bool { return t.APIs[i].LogicalID < t.APIs[j].LogicalID })
	return nil
}

func wantAPIType(eventType string) string {
	if eventType == "Api" {
		return "AWS::Serverless::Api"
	}
	return "AWS::Serverless::HttpApi"
}
