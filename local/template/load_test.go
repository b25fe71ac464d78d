package template_test

import (
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/questlog/questlog/local/template"
)

func functionIDs(tpl *template.Template) []string {
	var ids []string
	for _, f := range tpl.Functions {
		ids = append(ids, f.LogicalID)
	}
	return ids
}

func TestLoadApp(t *testing.T) {
	tpl, err := template.Load("testdata/app.yaml", template.Options{LookupEnv: noEnv})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	dir, _ := filepath.Abs("testdata")
	if tpl.Dir != dir || tpl.Path != filepath.Join(dir, "app.yaml") {
		t.Errorf("Dir, Path = %s, %s; want %s, %s/app.yaml", tpl.Dir, tpl.Path, dir, dir)
	}
	if got, want := functionIDs(tpl), []string{"FilterFunction", "IngestFunction", "SinkFunction"}; !slices.Equal(got, want) {
		t.Errorf("functions = %v, want %v (ProdOnlyFunction's condition is false)", got, want)
	}
	wantParams := map[string]string{
		"Stage": "dev", "KafkaBrokers": "localhost:9092,localhost:9093", "EventsTopic": "game-events",
		"IngestMemory": "256", "HdfsURL": "hdfs://localhost:8020",
	}
	if !maps.Equal(tpl.Parameters, wantParams) {
		t.Errorf("Parameters = %v, want %v", tpl.Parameters, wantParams)
	}
	if len(tpl.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", tpl.Warnings)
	}

	ingest := mustFunction(t, tpl, "IngestFunction")
	if tpl.Function("questlog-ingest-dev") != ingest {
		t.Error(`Function("questlog-ingest-dev") does not find IngestFunction by FunctionName`)
	}
	if ingest.Name() != "questlog-ingest-dev" {
		t.Errorf("Name() = %q", ingest.Name())
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"CodeURI", ingest.CodeURI, dir},
		{"Handler", ingest.Handler, "bootstrap"},
		{"Runtime", ingest.Runtime, "provided.al2023"},
		{"Architectures", ingest.Architectures, []string{"x86_64"}},
		{"MemorySize (Ref to a Number parameter)", ingest.MemorySize, 256},
		{"Timeout (resource replaces global)", ingest.Timeout, 5 * time.Second},
		{"LogFormat (global)", ingest.LogFormat, "JSON"},
		{"ApplicationLogLevel (global)", ingest.ApplicationLogLevel, "INFO"},
		{"BuildMethod", ingest.BuildMethod, "makefile"},
		{"ReservedConcurrency", ingest.ReservedConcurrency, 0},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("IngestFunction %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	wantEnv := map[string]string{
		// From Globals, merged with the resource's variables.
		"STAGE":         "dev",
		"KAFKA_BROKERS": "localhost:9092,localhost:9093",
		"LOG_LEVEL":     "DEBUG",
		// The resource's own.
		"EVENTS_TOPIC": "game-events",
		"SELF_ARN":     "arn:aws:lambda:us-east-1:123456789012:function:local-ingest",
		"DLQ_ARN":      "arn:aws:sqs:us-east-1:123456789012:DeadLetters",
		"DLQ_URL":      "https://sqs.us-east-1.amazonaws.com/123456789012/DeadLetters",
		"DEBUG_ONLY":   "yes",
		"TEMPLATE":     "${Literal}-dev",
		"FIRST_BROKER": "localhost:9092",
		"ENCODED":      "aGVsbG8=",
		"MAX_BODY":     "1048576",
		"STRICT":       "true",
	}
	if !maps.Equal(ingest.Environment, wantEnv) {
		t.Errorf("IngestFunction Environment =\n%v\nwant\n%v", ingest.Environment, wantEnv)
	}
	wantHTTP := []template.HTTPEvent{
		{Name: "Fallback", Type: "HttpApi", PayloadFormatVersion: "2.0", APIID: "ServerlessHttpApi"},
		{Name: "Health", Type: "HttpApi", Path: "/health", Method: "GET", PayloadFormatVersion: "1.0", APIID: "GameApi", TimeoutInMillis: 2000},
		{Name: "Legacy", Type: "Api", Path: "/legacy/{proxy+}", Method: "ANY", PayloadFormatVersion: "1.0", APIID: "ServerlessRestApi"},
		{Name: "PostEvent", Type: "HttpApi", Path: "/events", Method: "POST", PayloadFormatVersion: "2.0", APIID: "GameApi"},
	}
	if !reflect.DeepEqual(ingest.HTTPEvents, wantHTTP) {
		t.Errorf("IngestFunction HTTPEvents =\n%+v\nwant\n%+v", ingest.HTTPEvents, wantHTTP)
	}
	if !ingest.HTTPEvents[0].IsDefaultRoute() || ingest.HTTPEvents[1].IsDefaultRoute() {
		t.Error("IsDefaultRoute: want true only for the event without Path and Method")
	}

	filter := mustFunction(t, tpl, "FilterFunction")
	if filter.Timeout != 30*time.Second || filter.MemorySize != 128 || filter.ReservedConcurrency != 2 {
		t.Errorf("FilterFunction Timeout, MemorySize, ReservedConcurrency = %v, %d, %d; want 30s, 128 (default), 2",
			filter.Timeout, filter.MemorySize, filter.ReservedConcurrency)
	}
	wantKafka := []template.KafkaEvent{{
		Name:             "GameEvents",
		Topic:            "game-events",
		BootstrapServers: []string{"localhost:9092", "localhost:9093"},
		StartingPosition: "TRIM_HORIZON",
		BatchSize:        10,
		BatchingWindow:   500 * time.Millisecond,
		ConsumerGroupID:  "questlog-filter-dev",
		FilterPatterns: []string{
			`{"value": {"type": ["quest_completed"]}}`,
			`{"value": {"type": [{"prefix": "level_"}]}}`,
		},
		Enabled: true,
	}}
	if !reflect.DeepEqual(filter.KafkaEvents, wantKafka) {
		t.Errorf("FilterFunction KafkaEvents =\n%+v\nwant\n%+v", filter.KafkaEvents, wantKafka)
	}

	sink := mustFunction(t, tpl, "SinkFunction")
	if sink.Architecture() != "arm64" || sink.MemorySize != 512 || sink.Timeout != 10*time.Second {
		t.Errorf("SinkFunction Architecture, MemorySize, Timeout = %s, %d, %v; want arm64, 512, 10s (global)",
			sink.Architecture(), sink.MemorySize, sink.Timeout)
	}
	if sink.Environment["LOG_LEVEL"] != "ERROR" || sink.Environment["STAGE"] != "dev" {
		t.Errorf("SinkFunction env LOG_LEVEL, STAGE = %q, %q; want ERROR (resource wins), dev (global)",
			sink.Environment["LOG_LEVEL"], sink.Environment["STAGE"])
	}
	if len(sink.KafkaEvents) != 1 {
		t.Fatalf("SinkFunction KafkaEvents = %+v", sink.KafkaEvents)
	}
	ke := sink.KafkaEvents[0]
	if ke.StartingPosition != "AT_TIMESTAMP" || !ke.StartingPositionTimestamp.Equal(time.Unix(1700000000, 0)) ||
		ke.BatchSize != 100 || ke.BatchingWindow != 500*time.Millisecond || !ke.Enabled {
		t.Errorf("SinkFunction Kafka event = %+v; want AT_TIMESTAMP 1700000000, batch 100, window 500ms, enabled", ke)
	}
	if want := []template.OtherEvent{{Name: "Nightly", Type: "Schedule"}}; !reflect.DeepEqual(sink.OtherEvents, want) {
		t.Errorf("SinkFunction OtherEvents = %+v, want %+v", sink.OtherEvents, want)
	}

	wantAPIs := []*template.API{
		{LogicalID: "GameApi", Type: "HttpApi", StageName: "$default", CORS: &template.CORS{
			AllowOrigins: []string{"*"}, AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"content-type"}, MaxAge: 600,
		}},
		{LogicalID: "ServerlessHttpApi", Type: "HttpApi", StageName: "$default", Implicit: true, CORS: &template.CORS{
			AllowOrigins: []string{"*"}, AllowMethods: []string{"GET", "POST"},
		}},
		{LogicalID: "ServerlessRestApi", Type: "Api", StageName: "Prod", Implicit: true},
	}
	if !reflect.DeepEqual(tpl.APIs, wantAPIs) {
		for _, a := range tpl.APIs {
			t.Logf("got API %+v CORS %+v", a, a.CORS)
		}
		t.Errorf("APIs differ from want (globals-merged CORS, implicit APIs)")
	}
}

func TestLoadAppWithParameterOverrides(t *testing.T) {
	overrides, err := template.ParseParameterOverrides(`Stage=prod ParameterKey=EventsTopic,ParameterValue="other events" IngestMemory='1024'`)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := template.Load("testdata/app.yaml", template.Options{ParameterOverrides: overrides, LookupEnv: noEnv})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := functionIDs(tpl), []string{"FilterFunction", "IngestFunction", "ProdOnlyFunction", "SinkFunction"}; !slices.Equal(got, want) {
		t.Errorf("functions = %v, want %v (IsProd now holds)", got, want)
	}
	ingest := mustFunction(t, tpl, "IngestFunction")
	if ingest.FunctionName != "questlog-ingest-prod" || ingest.MemorySize != 1024 {
		t.Errorf("FunctionName, MemorySize = %q, %d; want questlog-ingest-prod, 1024", ingest.FunctionName, ingest.MemorySize)
	}
	if v, ok := ingest.Environment["DEBUG_ONLY"]; ok {
		t.Errorf("DEBUG_ONLY = %q, want it dropped (Fn::If → AWS::NoValue)", v)
	}
	if ingest.Environment["LOG_LEVEL"] != "WARN" || ingest.Environment["EVENTS_TOPIC"] != "other events" {
		t.Errorf("LOG_LEVEL, EVENTS_TOPIC = %q, %q; want WARN (FindInMap), other events",
			ingest.Environment["LOG_LEVEL"], ingest.Environment["EVENTS_TOPIC"])
	}
	filter := mustFunction(t, tpl, "FilterFunction")
	if k := filter.KafkaEvents[0]; k.BatchSize != 500 || k.Topic != "other events" || k.ConsumerGroupID != "questlog-filter-prod" {
		t.Errorf("FilterFunction Kafka = %+v; want BatchSize 500, topic other events, group questlog-filter-prod", k)
	}
	if sink := mustFunction(t, tpl, "SinkFunction"); sink.KafkaEvents[0].Enabled {
		t.Error("SinkFunction Kafka Enabled = true, want false (DevAndDefaultTopic is false)")
	}
	prod := mustFunction(t, tpl, "ProdOnlyFunction")
	if prod.Handler != "bootstrap" || len(prod.HTTPEvents) != 1 || prod.HTTPEvents[0].APIID != "ServerlessHttpApi" {
		t.Errorf("ProdOnlyFunction = %+v", prod)
	}
}

func TestLoadCodeURIAndDefaults(t *testing.T) {
	tpl := mustLoad(t, `
Transform: AWS::Serverless-2016-10-31
Resources:
  Bare:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
  Sub:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/sub
      Runtime: go1.x
      Handler: main
`, template.Options{})
	bare := mustFunction(t, tpl, "Bare")
	if bare.CodeURI != tpl.Dir {
		t.Errorf("Bare CodeURI = %s, want the template dir %s", bare.CodeURI, tpl.Dir)
	}
	if bare.MemorySize != 128 || bare.Timeout != 3*time.Second || bare.Architecture() != "x86_64" ||
		bare.BuildMethod != "makefile" || bare.Environment == nil || bare.Name() != "Bare" {
		t.Errorf("Bare defaults = %+v; want 128 MB, 3s, x86_64, makefile, empty env", bare)
	}
	sub := mustFunction(t, tpl, "Sub")
	if want := filepath.Join(tpl.Dir, "functions", "sub"); sub.CodeURI != want {
		t.Errorf("Sub CodeURI = %s, want %s", sub.CodeURI, want)
	}
	if sub.BuildMethod != "" {
		t.Errorf("Sub BuildMethod = %q, want empty for a non-provided runtime", sub.BuildMethod)
	}
}

func TestLoadGlobals(t *testing.T) {
	tpl := mustLoad(t, `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Flag:
    Type: String
    Default: "on"
Conditions:
  FlagOn: !Equals [!Ref Flag, "on"]
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    MemorySize: 256
    Timeout: 20
    Environment:
      Variables:
        SHARED: global
        OVERRIDDEN: global
    LoggingConfig:
      LogFormat: JSON
  HttpApi:
    CorsConfiguration: true
Resources:
  Plain:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 7
      Environment:
        Variables:
          OVERRIDDEN: resource
          OWN: mine
  IntrinsicEnv:
    Type: AWS::Serverless::Function
    Properties:
      # An intrinsic is a primitive: it replaces the global value whole.
      Environment: !If
        - FlagOn
        - Variables:
            ONLY: intrinsic
        - !Ref AWS::NoValue
  Ignoring:
    Type: AWS::Serverless::Function
    IgnoreGlobals: [MemorySize, Environment]
    Properties:
      Handler: own
  IgnoringAll:
    Type: AWS::Serverless::Function
    IgnoreGlobals: "*"
    Properties:
      Runtime: provided.al2
      Handler: bootstrap
  Api:
    Type: AWS::Serverless::HttpApi
`, template.Options{})

	plain := mustFunction(t, tpl, "Plain")
	if plain.MemorySize != 256 || plain.Timeout != 7*time.Second || plain.Handler != "bootstrap" || plain.LogFormat != "JSON" {
		t.Errorf("Plain = MemorySize %d, Timeout %v, Handler %q, LogFormat %q; want 256, 7s, bootstrap, JSON",
			plain.MemorySize, plain.Timeout, plain.Handler, plain.LogFormat)
	}
	if want := map[string]string{"SHARED": "global", "OVERRIDDEN": "resource", "OWN": "mine"}; !maps.Equal(plain.Environment, want) {
		t.Errorf("Plain Environment = %v, want %v", plain.Environment, want)
	}
	if want := map[string]string{"ONLY": "intrinsic"}; !maps.Equal(mustFunction(t, tpl, "IntrinsicEnv").Environment, want) {
		t.Errorf("IntrinsicEnv Environment = %v, want %v (intrinsic replaces the global map)",
			mustFunction(t, tpl, "IntrinsicEnv").Environment, want)
	}
	ign := mustFunction(t, tpl, "Ignoring")
	if ign.MemorySize != 128 || len(ign.Environment) != 0 || ign.Handler != "own" || ign.Timeout != 20*time.Second {
		t.Errorf("Ignoring = MemorySize %d, Environment %v, Handler %q, Timeout %v; want 128, empty, own, 20s",
			ign.MemorySize, ign.Environment, ign.Handler, ign.Timeout)
	}
	all := mustFunction(t, tpl, "IgnoringAll")
	if all.Runtime != "provided.al2" || all.MemorySize != 128 || all.Timeout != 3*time.Second || all.LogFormat != "" {
		t.Errorf("IgnoringAll = Runtime %q, MemorySize %d, Timeout %v, LogFormat %q; want no globals",
			all.Runtime, all.MemorySize, all.Timeout, all.LogFormat)
	}
	api := tpl.API("Api")
	if api == nil || api.CORS == nil || !slices.Equal(api.CORS.AllowOrigins, []string{"*"}) {
		t.Errorf("Api = %+v, want CorsConfiguration: true from Globals.HttpApi", api)
	}
}

func TestLoadGlobalsListsConcatenate(t *testing.T) {
	// SAM concatenates lists, global entries first. For Architectures that
	// yields two values, which Lambda rejects: the loader must say so rather
	// than pick one.
	_, err := load(t, `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Architectures: [x86_64]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      Architectures: [arm64]
`, template.Options{})
	wantErr(t, err, template.ErrInvalid, "Resources.Fn.Properties.Architectures: want exactly one of x86_64, arm64, got [x86_64 arm64]")
}

func TestLoadIntrinsics(t *testing.T) {
	tpl := mustLoad(t, `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Names:
    Type: CommaDelimitedList
    Default: a,b,c
  Port:
    Type: Number
    Default: 9092
Mappings:
  Regions:
    us-east-1:
      Short: use1
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Table:
    Type: AWS::DynamoDB::Table
  Bucket:
    Type: AWS::S3::Bucket
  Stream:
    Type: AWS::Kinesis::Stream
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      Environment:
        Variables:
          SUB_VARS: !Sub
            - "${Host}:${Port}/${Name}"
            - Host: !Select [1, !Ref Names]
              Name: !Ref AWS::StackName
          SUB_GETATT: !Sub "${Queue.Arn}|${Fn.Arn}|${Queue}"
          SELF_ARN: !GetAtt Fn.Arn
          ROLE_ARN: !GetAtt FnRole.Arn
          TABLE_ARN: !GetAtt Table.Arn
          BUCKET_ARN: !GetAtt Bucket.Arn
          STREAM_ARN: !GetAtt Stream.Arn
          OTHER_ATTR: !GetAtt Stream.ShardCount
          API_URL: !GetAtt ServerlessHttpApi.ApiEndpoint
          REF_RESOURCE: !Ref Table
          JOINED: !Join ["-", !Ref Names]
          JOINED_PORT: !Join ["-", [!Select [0, !Ref Names], !Ref Port]]
          NESTED_JOIN: !Join ["", [x, !Join [".", !Split ["/", "p/q/r"]]]]
          AZ: !Select [2, !GetAZs ""]
          REGION_SHORT: !FindInMap [Regions, !Ref AWS::Region, Short]
          DEFAULTED: !FindInMap [Regions, eu-west-1, Short, {DefaultValue: none}]
          IMPORTED: !ImportValue shared-vpc-id
          LONG_FORM:
            Fn::Join: [":", [{Ref: AWS::Partition}, {"Fn::Base64": "x"}]]
          DROPPED: !Ref AWS::NoValue
          NUM: 1.50
          BIG: 100000000000000000000
          "NULL": null
`, template.Options{Pseudo: template.Pseudo{StackName: "questlog"}})
	fn := mustFunction(t, tpl, "Fn")
	want := map[string]string{
		"SUB_VARS":     "b:9092/questlog",
		"SUB_GETATT":   "arn:aws:sqs:us-east-1:123456789012:Queue|arn:aws:lambda:us-east-1:123456789012:function:Fn|Queue",
		"SELF_ARN":     "arn:aws:lambda:us-east-1:123456789012:function:Fn",
		"ROLE_ARN":     "arn:aws:iam::123456789012:role/FnRole",
		"TABLE_ARN":    "arn:aws:dynamodb:us-east-1:123456789012:table/Table",
		"BUCKET_ARN":   "arn:aws:s3:::bucket",
		"STREAM_ARN":   "arn:aws:kinesis:us-east-1:123456789012:stream/Stream",
		"OTHER_ATTR":   "Stream.ShardCount",
		"API_URL":      "https://ServerlessHttpApi.execute-api.us-east-1.amazonaws.com",
		"REF_RESOURCE": "Table",
		"JOINED":       "a-b-c",
		"JOINED_PORT":  "a-9092",
		"NESTED_JOIN":  "xp.q.r",
		"AZ":           "us-east-1c",
		"REGION_SHORT": "use1",
		"DEFAULTED":    "none",
		"IMPORTED":     "",
		"LONG_FORM":    "aws:eA==",
		"NUM":          "1.5",
		"BIG":          "100000000000000000000",
		"NULL":         "",
	}
	if !maps.Equal(fn.Environment, want) {
		for k, v := range fn.Environment {
			if want[k] != v {
				t.Errorf("%s = %q, want %q", k, v, want[k])
			}
		}
		t.Fatalf("Environment = %v\nwant %v", fn.Environment, want)
	}
	if len(tpl.Warnings) != 1 || !containsAll(tpl.Warnings[0], "Resources.Fn.Properties.Environment.Variables.IMPORTED", `Fn::ImportValue "shared-vpc-id"`) {
		t.Errorf("Warnings = %q, want one about Fn::ImportValue naming the property", tpl.Warnings)
	}
}

func TestLoadKafkaEvent(t *testing.T) {
	tpl := mustLoad(t, `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Brokers:
    Type: CommaDelimitedList
    Default: "b1:9092,b2:9092"
Resources:
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      Events:
        Window:
          Type: SelfManagedKafka
          Properties:
            KafkaBootstrapServers: !Ref Brokers
            Topics: [t1]
            StartingPosition: LATEST
            BatchSize: 10000
            MaximumBatchingWindowInSeconds: 0
            Enabled: "false"
        Latest:
          Type: SelfManagedKafka
          Properties:
            KafkaBootstrapServers: [solo:9092]
            Topics: [t2]
            StartingPosition: AT_TIMESTAMP
            StartingPositionTimestamp: 1700000000.25
            MaximumBatchingWindowInSeconds: 300
        Stream:
          Type: MSK
          Properties:
            Stream: arn:aws:kafka:us-east-1:123456789012:cluster/x/y
            Topics: [t3]
            StartingPosition: LATEST
`, template.Options{})
	fn := mustFunction(t, tpl, "Consumer")
	want := []template.KafkaEvent{
		{
			Name: "Latest", Topic: "t2", BootstrapServers: []string{"solo:9092"}, StartingPosition: "AT_TIMESTAMP",
			StartingPositionTimestamp: time.Unix(1700000000, 250_000_000).UTC(),
			BatchSize:                 100, BatchingWindow: 300 * time.Second, Enabled: true,
		},
		{
			Name: "Window", Topic: "t1", BootstrapServers: []string{"b1:9092", "b2:9092"}, StartingPosition: "LATEST",
			BatchSize: 10000, BatchingWindow: 0, Enabled: false,
		},
	}
	if !reflect.DeepEqual(fn.KafkaEvents, want) {
		t.Errorf("KafkaEvents =\n%+v\nwant\n%+v", fn.KafkaEvents, want)
	}
	if wantOther := []template.OtherEvent{{Name: "Stream", Type: "MSK"}}; !reflect.DeepEqual(fn.OtherEvents, wantOther) {
		t.Errorf("OtherEvents = %+v, want %+v", fn.OtherEvents, wantOther)
	}
}

func TestLoadEnvVarsPrecedence(t *testing.T) {
	body := `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Environment:
      Variables:
        TEMPLATE_ONLY: template
        SHELL_SET: template
        PARAMS_SET: template
        FN_SET: template
        ALL_SET: template
Resources:
  Ingest:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: ingest-fn
  Sink:
    Type: AWS::Serverless::Function
`
	envFile := filepath.Join(t.TempDir(), "env.json")
	writeFile(t, envFile, `{
  "Parameters": {"PARAMS_SET": "params", "ALL_SET": "params", "FN_SET": "params", "UNDECLARED": "x"},
  "ingest-fn": {"FN_SET": "by-name", "ALL_SET": "by-name"},
  "Ingest": {"ALL_SET": "by-id", "NOT_DECLARED": "ignored"},
  "Sink": {"FN_SET": true, "ALL_SET": 12.5, "PARAMS_SET": 100000000000000000000, "SHELL_SET": null},
  "Unknown": {"X": "y"}
}`)
	shell := mapEnv(map[string]string{"SHELL_SET": "shell", "ALL_SET": "shell", "PARAMS_SET": "shell", "UNDECLARED": "shell"})
	tpl := mustLoad(t, body, template.Options{EnvVarsFile: envFile, LookupEnv: shell})

	wantIngest := map[string]string{
		"TEMPLATE_ONLY": "template", // nothing overrides it
		"SHELL_SET":     "shell",    // process env beats the template
		"PARAMS_SET":    "params",   // env-vars file beats the process env
		"FN_SET":        "by-name",  // FunctionName entry beats Parameters
		"ALL_SET":       "by-id",    // logical-ID entry beats FunctionName entry
	}
	if got := mustFunction(t, tpl, "Ingest").Environment; !maps.Equal(got, wantIngest) {
		t.Errorf("Ingest Environment = %v\nwant %v", got, wantIngest)
	}
	wantSink := map[string]string{
		"TEMPLATE_ONLY": "template",
		"SHELL_SET":     "", // null in the file → ""
		"PARAMS_SET":    "100000000000000000000",
		"FN_SET":        "true",
		"ALL_SET":       "12.5",
	}
	if got := mustFunction(t, tpl, "Sink").Environment; !maps.Equal(got, wantSink) {
		t.Errorf("Sink Environment = %v\nwant %v", got, wantSink)
	}

	// Without a file, only the process environment applies.
	tpl = mustLoad(t, body, template.Options{LookupEnv: shell})
	if got := mustFunction(t, tpl, "Sink").Environment; got["SHELL_SET"] != "shell" || got["ALL_SET"] != "shell" || got["FN_SET"] != "template" || len(got) != 5 {
		t.Errorf("Sink Environment without file = %v", got)
	}
}

func TestLoadHTTPAPIs(t *testing.T) {
	tpl := mustLoad(t, `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
Resources:
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: live
      CorsConfiguration:
        AllowOrigins: [https://example.com]
        AllowCredentials: true
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Http
            Path: /items/{id}
            Method: get
        Catchall:
          Type: HttpApi
          Properties:
            ApiId: !Ref Http
            Path: $default
            Method: ANY
        Post:
          Type: Api
          Properties:
            RestApiId: !Ref Rest
            Path: /items
            Method: POST
            TimeoutInMillis: 29000
`, template.Options{})
	fn := mustFunction(t, tpl, "Fn")
	want := []template.HTTPEvent{
		{Name: "Catchall", Type: "HttpApi", PayloadFormatVersion: "2.0", APIID: "Http"},
		{Name: "Get", Type: "HttpApi", Path: "/items/{id}", Method: "GET", PayloadFormatVersion: "2.0", APIID: "Http"},
		{Name: "Post", Type: "Api", Path: "/items", Method: "POST", PayloadFormatVersion: "1.0", APIID: "Rest", TimeoutInMillis: 29000},
	}
	if !reflect.DeepEqual(fn.HTTPEvents, want) {
		t.Errorf("HTTPEvents = %+v\nwant %+v", fn.HTTPEvents, want)
	}
	wantAPIs := []*template.API{
		{LogicalID: "Http", Type: "HttpApi", StageName: "live", CORS: &template.CORS{AllowOrigins: []string{"https://example.com"}, AllowCredentials: true}},
		{LogicalID: "Rest", Type: "Api", StageName: "v1"},
	}
	if !reflect.DeepEqual(tpl.APIs, wantAPIs) {
		t.Errorf("APIs = %+v, %+v; want only the declared ones", tpl.APIs[0], tpl.APIs[1:])
	}
}

func TestLoadConditionalEventProperties(t *testing.T) {
	body := `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Public:
    Type: String
    Default: "false"
    AllowedValues: ["true", "false"]
Conditions:
  IsPublic: !Equals [!Ref Public, "true"]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      Events:
        Route:
          Type: HttpApi
          Properties: !If
            - IsPublic
            - {Path: /public, Method: GET}
            - {Path: /internal, Method: GET}
`
	for _, tt := range []struct{ public, path string }{{"false", "/internal"}, {"true", "/public"}} {
		tpl := mustLoad(t, body, template.Options{ParameterOverrides: map[string]string{"Public": tt.public}})
		if ev := mustFunction(t, tpl, "Fn").HTTPEvents; len(ev) != 1 || ev[0].Path != tt.path {
			t.Errorf("Public=%s: HTTPEvents = %+v, want path %s", tt.public, ev, tt.path)
		}
	}
}
