package template

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Function is a resolved AWS::Serverless::Function (Globals.Function merged).
type Function struct {
	LogicalID    string
	FunctionName string // FunctionName property; "" when unset
	// CodeURI is the absolute directory of CodeUri (relative to the
	// template). Default: the template's directory, as SAM CLI does.
	CodeURI string
	Handler string
	Runtime string
	// Architectures is ["x86_64"] or ["arm64"]. Default: ["x86_64"].
	Architectures []string
	MemorySize    int           // MB. Default: 128
	Timeout       time.Duration // Default: 3s
	// Environment is Environment.Variables resolved and stringified, with
	// the process environment and the env-vars file applied (see Options).
	// Never nil.
	Environment map[string]string
	// ReservedConcurrency is ReservedConcurrentExecutions; 0 = unset. An
	// explicit 0 (which disables a function in AWS) is reported in
	// Template.Warnings and treated as unset.
	ReservedConcurrency int
	// LoggingConfig: LogFormat is "Text" or "JSON" ("" = unset, which Lambda
	// treats as Text); the log levels require JSON.
	LogFormat           string
	ApplicationLogLevel string // TRACE, DEBUG, INFO, WARN, ERROR, FATAL or ""
	SystemLogLevel      string // DEBUG, INFO, WARN or ""
	LogGroup            string // "" = /aws/lambda/<name>
	// BuildMethod is the resource's Metadata.BuildMethod. Default:
	// "makefile" for provided.* runtimes, as SAM CLI does.
	BuildMethod string

	HTTPEvents  []HTTPEvent  // HttpApi and Api events, sorted by name
	KafkaEvents []KafkaEvent // SelfManagedKafka events, sorted by name
	// OtherEvents are events of types the emulator does not run (SQS,
	// Schedule, MSK, …), kept so it can warn about them.
	OtherEvents []OtherEvent
}

// Name is the function's name as Lambda reports it: FunctionName if set,
// else the logical ID.
func (f *Function) Name() string {
	if f.FunctionName != "" {
		return f.FunctionName
	}
	return f.LogicalID
}

// Architecture returns the single architecture, "x86_64" or "arm64".
func (f *Function) Architecture() string {
	if len(f.Architectures) == 0 {
		return "x86_64"
	}
	return f.Architectures[0]
}

// OtherEvent is an event source the emulator does not emulate.
type OtherEvent struct {
	Name string // logical name under Events
	Type string // e.g. "SQS", "Schedule", "MSK"
}

var (
	logFormats       = []string{"Text", "JSON"}
	appLogLevels     = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
	systemLogLevels  = []string{"DEBUG", "INFO", "WARN"}
	architectureVals = []string{"x86_64", "arm64"}
)

func (l *loader) function(id string, res, globals map[string]any) (*Function, error) {
	path := "Resources." + id
	ignore, err := ignoreGlobals(res, path)
	if err != nil {
		return nil, err
	}
	props := applyGlobals(globals, propsOf(res), ignore)
	pp := path + ".Properties"
	fn := &Function{LogicalID: id}

	if pt, err := l.stringProp(props, "PackageType", pp); err != nil {
		return nil, err
	} else if pt == "Image" {
		return nil, fmt.Errorf("%s.PackageType: container images are not emulated: %w", pp, ErrUnsupported)
	}
	for _, key := range []string{"InlineCode", "ImageUri"} {
		if _, ok := props[key]; ok {
			return nil, fmt.Errorf("%s.%s: not emulated, use CodeUri with a bootstrap binary: %w", pp, key, ErrUnsupported)
		}
	}

	if fn.FunctionName, err = l.stringProp(props, "FunctionName", pp); err != nil {
		return nil, err
	}
	if fn.CodeURI, err = l.codeURI(props, pp); err != nil {
		return nil, err
	}
	if fn.Handler, err = l.stringProp(props, "Handler", pp); err != nil {
		return nil, err
	}
	if fn.Runtime, err = l.stringProp(props, "Runtime", pp); err != nil {
		return nil, err
	}

	archs, ok, err := l.stringList(props, "Architectures", pp)
	if err != nil {
		return nil, err
	}
	if !ok {
		archs = []string{"x86_64"}
	}
	if len(archs) != 1 || !slices.Contains(architectureVals, archs[0]) {
		return nil, invalidf(pp+".Architectures", "want exactly one of x86_64, arm64, got %v", archs)
	}
	fn.Architectures = archs

	if fn.MemorySize, err = l.intProp(props, "MemorySize", pp, 128, 128, 10240); err != nil {
		return nil, err
	}
	timeout, err := l.intProp(props, "Timeout", pp, 3, 1, 900)
	if err != nil {
		return nil, err
	}
	fn.Timeout = time.Duration(timeout) * time.Second

	if fn.Environment, err = l.environment(props, pp); err != nil {
		return nil, err
	}

	if _, explicit := props["ReservedConcurrentExecutions"]; explicit {
		if fn.ReservedConcurrency, err = l.intProp(props, "ReservedConcurrentExecutions", pp, 0, 0, 1<<20); err != nil {
			return nil, err
		}
		if fn.ReservedConcurrency == 0 {
			l.warn(pp + ".ReservedConcurrentExecutions: 0 throttles every invocation in AWS; the emulator treats it as unset")
		}
	}

	if err := l.loggingConfig(fn, props, pp); err != nil {
		return nil, err
	}

	if meta, ok := res["Metadata"].(map[string]any); ok {
		if fn.BuildMethod, err = l.stringProp(meta, "BuildMethod", path+".Metadata"); err != nil {
			return nil, err
		}
	}
	if fn.BuildMethod == "" && strings.HasPrefix(fn.Runtime, "provided") {
		fn.BuildMethod = "makefile"
	}

	if err := l.events(fn, props, pp); err != nil {
		return nil, err
	}
	return fn, nil
}

func (l *loader) codeURI(props map[string]any, pp string) (string, error) {
	v, ok, err := l.prop(props, "CodeUri", pp)
	if err != nil {
		return "", err
	}
	if !ok {
		return l.dir, nil
	}
	s, isString := v.(string)
	switch {
	case !isString:
		return "", fmt.Errorf("%s.CodeUri: S3 locations (Bucket/Key) are not emulated, use a local directory: %w", pp, ErrUnsupported)
	case strings.HasPrefix(s, "s3://"):
		return "", fmt.Errorf("%s.CodeUri: %s: S3 locations are not emulated, use a local directory: %w", pp, s, ErrUnsupported)
	case s == "":
		return l.dir, nil
	case filepath.IsAbs(s):
		return filepath.Clean(s), nil
	default:
		return filepath.Join(l.dir, s), nil
	}
}

func (l *loader) environment(props map[string]any, pp string) (map[string]string, error) {
	env := map[string]string{}
	v, ok, err := l.prop(props, "Environment", pp)
	if err != nil || !ok {
		return env, err
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return nil, invalidf(pp+".Environment", "must be a mapping, got %s", kindOf(v))
	}
	vars, ok := m["Variables"]
	if !ok {
		return env, nil
	}
	vm, isMap := vars.(map[string]any)
	if !isMap {
		return nil, invalidf(pp+".Environment.Variables", "must be a mapping, got %s", kindOf(vars))
	}
	for name, val := range vm {
		s, ok := scalarString(val)
		if !ok {
			return nil, invalidf(pp+".Environment.Variables."+name, "must be a string, got %s", kindOf(val))
		}
		env[name] = s
	}
	return env, nil
}

func (l *loader) loggingConfig(fn *Function, props map[string]any, pp string) error {
	v, ok, err := l.prop(props, "LoggingConfig", pp)
	if err != nil || !ok {
		return err
	}
	lc, isMap := v.(map[string]any)
	if !isMap {
		return invalidf(pp+".LoggingConfig", "must be a mapping, got %s", kindOf(v))
	}
	lp := pp + ".LoggingConfig"
	for _, f := range []struct {
		key     string
		dst     *string
		allowed []string
	}{
		{"LogFormat", &fn.LogFormat, logFormats},
		{"ApplicationLogLevel", &fn.ApplicationLogLevel, appLogLevels},
		{"SystemLogLevel", &fn.SystemLogLevel, systemLogLevels},
		{"LogGroup", &fn.LogGroup, nil},
	} {
		s, err := l.stringProp(lc, f.key, lp)
		if err != nil {
			return err
		}
		if s != "" && f.allowed != nil && !slices.Contains(f.allowed, s) {
			return invalidf(lp+"."+f.key, "%q is not one of %s", s, strings.Join(f.allowed, ", "))
		}
		*f.dst = s
	}
	if (fn.ApplicationLogLevel != "" || fn.SystemLogLevel != "") && fn.LogFormat != "JSON" {
		return invalidf(lp, "ApplicationLogLevel and SystemLogLevel need LogFormat: JSON")
	}
	return nil
}
