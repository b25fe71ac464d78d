package template_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/questlog/questlog/local/template"
)

// fnTemplate wraps function properties (indented 6 spaces) in a minimal
// template with one function, Fn.
func fnTemplate(props string) string {
	return `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
` + props
}

// kafkaTemplate is fnTemplate with one SelfManagedKafka event whose
// properties are the defaults below plus extra (indented 12 spaces).
func kafkaTemplate(extra string) string {
	return fnTemplate(`      Events:
        K:
          Type: SelfManagedKafka
          Properties:
            KafkaBootstrapServers: [localhost:9092]
` + extra)
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		opts     template.Options
		sentinel error
		msg      string
	}{
		{
			name: "unsupported intrinsic",
			body: fnTemplate(`      Environment:
        Variables:
          X:
            Fn::Transform:
              Name: AWS::Include
`),
			sentinel: template.ErrUnsupported,
			msg:      "Resources.Fn.Properties.Environment.Variables.X: unsupported intrinsic Fn::Transform",
		},
		{
			name:     "unsupported short-form intrinsic",
			body:     fnTemplate("      Environment:\n        Variables:\n          CIDR: !Select [0, !Cidr [10.0.0.0/16, 2, 8]]\n"),
			sentinel: template.ErrUnsupported,
			msg:      "Resources.Fn.Properties.Environment.Variables.CIDR: unsupported intrinsic Fn::Cidr",
		},
		{
			name: "parameter without default or override",
			body: `
Transform: AWS::Serverless-2016-10-31
Parameters:
  BrokerURL:
    Type: String
Resources: {}
`,
			sentinel: template.ErrParameter,
			msg:      "Parameters.BrokerURL: no value: give it a Default or pass --parameter-overrides BrokerURL=…",
		},
		{
			name:     "override not in AllowedValues",
			body:     "Parameters:\n  Stage:\n    Type: String\n    Default: dev\n    AllowedValues: [dev, prod]\nResources: {}\n",
			opts:     template.Options{ParameterOverrides: map[string]string{"Stage": "qa"}},
			sentinel: template.ErrParameter,
			msg:      `Parameters.Stage: value "qa" is not one of AllowedValues [dev, prod]`,
		},
		{
			name:     "default not in AllowedValues",
			body:     "Parameters:\n  Stage:\n    Type: String\n    Default: test\n    AllowedValues: [dev, prod]\nResources: {}\n",
			sentinel: template.ErrParameter,
			msg:      `Parameters.Stage: value "test" is not one of AllowedValues [dev, prod]`,
		},
		{
			name:     "number parameter",
			body:     "Parameters:\n  Mem:\n    Type: Number\n    Default: lots\nResources: {}\n",
			sentinel: template.ErrParameter,
			msg:      `Parameters.Mem: value "lots" is not a number (Type Number)`,
		},
		{
			name:     "allowed pattern",
			body:     "Parameters:\n  Name:\n    Type: String\n    Default: Bad_Name\n    AllowedPattern: '[a-z-]+'\nResources: {}\n",
			sentinel: template.ErrParameter,
			msg:      `Parameters.Name: value "Bad_Name" does not match AllowedPattern [a-z-]+`,
		},
		{
			name:     "max value",
			body:     "Parameters:\n  Mem:\n    Type: Number\n    Default: 20000\n    MaxValue: 10240\nResources: {}\n",
			sentinel: template.ErrParameter,
			msg:      `Parameters.Mem: value "20000" is above MaxValue 10240`,
		},
		{
			name:     "override of an undeclared parameter",
			body:     fnTemplate(""),
			opts:     template.Options{ParameterOverrides: map[string]string{"Stag": "prod"}},
			sentinel: template.ErrParameter,
			msg:      "parameter overrides Stag: no such parameter in the template",
		},
		{
			name:     "unknown reference",
			body:     fnTemplate("      Environment:\n        Variables:\n          X: !Ref Nope\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.Environment.Variables.X: Ref Nope: no such parameter, pseudo parameter or resource",
		},
		{
			name:     "unknown resource in Sub",
			body:     fnTemplate("      Environment:\n        Variables:\n          X: !Sub '${Nope.Arn}'\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.Environment.Variables.X: Fn::GetAtt Nope.Arn: no such resource",
		},
		{
			name:     "undeclared condition",
			body:     fnTemplate("      Timeout: !If [Missing, 1, 2]\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.Timeout: condition Missing is not declared in Conditions",
		},
		{
			name: "circular condition",
			body: "Conditions:\n  A: !Condition B\n  B: !Not [!Condition A]\n" +
				strings.TrimPrefix(fnTemplate("      Timeout: !If [A, 1, 2]\n"), "\n"),
			sentinel: template.ErrInvalid,
			msg:      "circular condition",
		},
		{
			name:     "FindInMap miss",
			body:     "Mappings:\n  M:\n    a:\n      b: c\n" + strings.TrimPrefix(fnTemplate("      FunctionName: !FindInMap [M, a, z]\n"), "\n"),
			sentinel: template.ErrInvalid,
			msg:      `Resources.Fn.Properties.FunctionName: Fn::FindInMap [M, a, z]: second-level key "z" not found`,
		},
		{
			name:     "Select out of range",
			body:     fnTemplate("      FunctionName: !Select [3, [a, b]]\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.FunctionName: Fn::Select index 3 out of range (list has 2 elements)",
		},
		{
			name:     "non-scalar environment value",
			body:     fnTemplate("      Environment:\n        Variables:\n          LIST: [a, b]\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.Environment.Variables.LIST: must be a string, got a list",
		},
		{
			name: "Events in Globals",
			body: `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Events:
      A: {Type: HttpApi}
    FunctionName: shared
Resources: {}
`,
			sentinel: template.ErrInvalid,
			msg:      "Globals.Function: Events, FunctionName not allowed in Globals",
		},
		{
			name:     "StageName in Globals.HttpApi",
			body:     "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  HttpApi:\n    StageName: live\nResources: {}\n",
			sentinel: template.ErrInvalid,
			msg:      "Globals.HttpApi: StageName not allowed in Globals",
		},
		{
			name:     "unknown Globals section",
			body:     "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Functions:\n    Timeout: 3\nResources: {}\n",
			sentinel: template.ErrInvalid,
			msg:      "Globals.Functions: unknown Globals section",
		},
		{
			name:     "missing transform",
			body:     strings.Replace(fnTemplate(""), "Transform: AWS::Serverless-2016-10-31\n", "", 1),
			sentinel: template.ErrInvalid,
			msg:      "Transform: Resources.Fn is AWS::Serverless::Function, which needs Transform: AWS::Serverless-2016-10-31",
		},
		{
			name:     "timeout out of range",
			body:     fnTemplate("      Timeout: 901\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.Timeout: 901 out of range 1..900",
		},
		{
			name:     "memory not a number",
			body:     fnTemplate("      MemorySize: !Ref Stage\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.MemorySize: must be an integer, got dev",
		},
		{
			name:     "log level without JSON",
			body:     fnTemplate("      LoggingConfig:\n        ApplicationLogLevel: DEBUG\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.LoggingConfig: ApplicationLogLevel and SystemLogLevel need LogFormat: JSON",
		},
		{
			name:     "S3 CodeUri",
			body:     fnTemplate("      CodeUri: s3://bucket/key.zip\n"),
			sentinel: template.ErrUnsupported,
			msg:      "Resources.Fn.Properties.CodeUri: s3://bucket/key.zip: S3 locations are not emulated",
		},
		{
			name:     "image package",
			body:     fnTemplate("      PackageType: Image\n"),
			sentinel: template.ErrUnsupported,
			msg:      "Resources.Fn.Properties.PackageType: container images are not emulated",
		},
		{
			name:     "kafka without topic",
			body:     kafkaTemplate("            StartingPosition: LATEST\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.Events.K.Properties.Topics: SelfManagedKafka needs exactly one topic, got 0",
		},
		{
			name:     "kafka with two topics",
			body:     kafkaTemplate("            Topics: [a, b]\n            StartingPosition: LATEST\n"),
			sentinel: template.ErrInvalid,
			msg:      "Properties.Events.K.Properties.Topics: SelfManagedKafka needs exactly one topic, got 2",
		},
		{
			name:     "kafka without starting position",
			body:     kafkaTemplate("            Topics: [a]\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.Events.K.Properties.StartingPosition: required (TRIM_HORIZON, LATEST, AT_TIMESTAMP)",
		},
		{
			name:     "kafka AT_TIMESTAMP without timestamp",
			body:     kafkaTemplate("            Topics: [a]\n            StartingPosition: AT_TIMESTAMP\n"),
			sentinel: template.ErrInvalid,
			msg:      "Events.K.Properties.StartingPositionTimestamp: required with AT_TIMESTAMP",
		},
		{
			name:     "kafka batch size",
			body:     kafkaTemplate("            Topics: [a]\n            StartingPosition: LATEST\n            BatchSize: 10001\n"),
			sentinel: template.ErrInvalid,
			msg:      "Events.K.Properties.BatchSize: 10001 out of range 1..10000",
		},
		{
			name:     "kafka batching window",
			body:     kafkaTemplate("            Topics: [a]\n            StartingPosition: LATEST\n            MaximumBatchingWindowInSeconds: 301\n"),
			sentinel: template.ErrInvalid,
			msg:      "Events.K.Properties.MaximumBatchingWindowInSeconds: 301 out of range 0..300",
		},
		{
			name: "kafka too many filters",
			body: kafkaTemplate("            Topics: [a]\n            StartingPosition: LATEST\n            FilterCriteria:\n              Filters:\n" +
				strings.Repeat("                - Pattern: '{}'\n", 6)),
			sentinel: template.ErrInvalid,
			msg:      "Events.K.Properties.FilterCriteria.Filters: at most 5 filters, got 6",
		},
		{
			name: "kafka filter not JSON",
			body: kafkaTemplate("            Topics: [a]\n            StartingPosition: LATEST\n            FilterCriteria:\n              Filters:\n" +
				"                - Pattern: 'value = 1'\n"),
			sentinel: template.ErrInvalid,
			msg:      "Events.K.Properties.FilterCriteria.Filters[0].Pattern: not a JSON object",
		},
		{
			name: "kafka without bootstrap servers",
			body: fnTemplate(`      Events:
        K:
          Type: SelfManagedKafka
          Properties:
            Topics: [a]
            StartingPosition: LATEST
`),
			sentinel: template.ErrInvalid,
			msg:      "Events.K.Properties.KafkaBootstrapServers: required",
		},
		{
			name:     "http event with path only",
			body:     fnTemplate("      Events:\n        H:\n          Type: HttpApi\n          Properties:\n            Path: /x\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.Events.H.Properties: HttpApi events need both Path and Method, or neither for the $default route",
		},
		{
			name:     "api event without path",
			body:     fnTemplate("      Events:\n        H:\n          Type: Api\n"),
			sentinel: template.ErrInvalid,
			msg:      "Events.H.Properties: Api events need both Path and Method",
		},
		{
			name:     "greedy path not last",
			body:     fnTemplate("      Events:\n        H:\n          Type: HttpApi\n          Properties:\n            Path: /a/{proxy+}/b\n            Method: GET\n"),
			sentinel: template.ErrInvalid,
			msg:      `Events.H.Properties.Path: "/a/{proxy+}/b": a greedy variable {name+} must be the last segment`,
		},
		{
			name:     "bad method",
			body:     fnTemplate("      Events:\n        H:\n          Type: HttpApi\n          Properties:\n            Path: /a\n            Method: FETCH\n"),
			sentinel: template.ErrInvalid,
			msg:      `Events.H.Properties.Method: "FETCH" is not one of GET`,
		},
		{
			name:     "ApiId to a missing API",
			body:     fnTemplate("      Events:\n        H:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref Stage\n            Path: /a\n            Method: GET\n"),
			sentinel: template.ErrInvalid,
			msg:      "Resources.Fn.Properties.Events.H: HttpApi: no active AWS::Serverless::HttpApi resource dev in the template",
		},
		{
			name: "duplicate route",
			body: `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get: {Type: HttpApi, Properties: {Path: /x, Method: GET}}
  B:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        AlsoGet: {Type: HttpApi, Properties: {Path: /x, Method: get}}
`,
			sentinel: template.ErrInvalid,
			msg:      "Resources.B.Properties.Events.AlsoGet: route GET /x on ServerlessHttpApi is also declared by Resources.A.Properties.Events.Get",
		},
		{
			name:     "unknown YAML tag",
			body:     fnTemplate("      CodeUri: !Reference x\n"),
			sentinel: nil,
			msg:      "line 13: unknown tag !Reference",
		},
		{
			name:     "duplicate key",
			body:     fnTemplate("      Handler: a\n"),
			sentinel: nil,
			msg:      `line 13: duplicate key "Handler"`,
		},
		{
			name:     "no Resources",
			body:     "Transform: AWS::Serverless-2016-10-31\n",
			sentinel: template.ErrInvalid,
			msg:      "Resources: missing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemplate(t, tt.body)
			if tt.opts.LookupEnv == nil {
				tt.opts.LookupEnv = noEnv
			}
			_, err := template.Load(path, tt.opts)
			wantErr(t, err, tt.sentinel, tt.msg)
			if err != nil && !strings.HasPrefix(err.Error(), "template "+path+": ") {
				t.Errorf("err = %q, want it to start with the template path", err)
			}
		})
	}
}

func TestLoadEnvVarsFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content, msg string }{
		{"not JSON", `{"Fn": `, "want a JSON object of objects"},
		{"not an object of objects", `{"Fn": "x"}`, "Fn: want an object of variables, got a string"},
		{"nested value", `{"Parameters": {"X": {"a": 1}}}`, "Parameters.X: value must be a string, number, boolean or null, got a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			envFile := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".json")
			writeFile(t, envFile, tt.content)
			_, err := load(t, fnTemplate(""), template.Options{EnvVarsFile: envFile})
			wantErr(t, err, nil, "env vars file "+envFile+": "+tt.msg)
		})
	}
	_, err := load(t, fnTemplate(""), template.Options{EnvVarsFile: filepath.Join(dir, "missing.json")})
	wantErr(t, err, nil, "missing.json: no such file or directory")
}

func TestLoadMissingFile(t *testing.T) {
	_, err := template.Load(filepath.Join(t.TempDir(), "nope.yaml"), template.Options{})
	wantErr(t, err, nil, "nope.yaml: no such file or directory")
}
