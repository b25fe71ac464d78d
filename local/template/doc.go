// Package template loads an AWS SAM template.yaml into the typed model the
// emulator runs: functions with their resolved settings, HTTP routes and
// SelfManagedKafka event source mappings.
//
// # Parsing
//
// Decode reads YAML (or JSON) and turns CloudFormation short-form tags into
// long-form intrinsics (!Ref X → {"Ref": "X"}, !GetAtt A.B →
// {"Fn::GetAtt": ["A", "B"]}, …); ToJSON renders that document as JSON, the
// input of the published SAM JSON schema.
//
// # Parameters
//
// Each parameter takes its override (Options.ParameterOverrides, parsed by
// ParseParameterOverrides from SAM CLI's --parameter-overrides syntax) or
// its Default; without either, Load fails naming it. Types: String, Number
// (validated numeric, yields a string as Ref does in CloudFormation),
// CommaDelimitedList and List<…> (yield lists; items are trimmed), and
// AWS-specific types, treated as strings. AWS::SSM::Parameter::Value<…>
// types are not looked up: the value (the SSM name) is used as is, with a
// warning. AllowedValues, AllowedPattern, Min/MaxLength and Min/MaxValue
// are enforced. An override for an undeclared parameter is an error.
//
// # Intrinsics
//
// Only the properties the emulator reads are resolved, so an unsupported
// construct elsewhere (say in Policies) does not stop a load. Supported:
//
//   - Ref: parameters; pseudo parameters (Pseudo, defaults AWS::Region
//     us-east-1, AWS::AccountId 123456789012, AWS::Partition aws,
//     AWS::StackName local, AWS::URLSuffix amazonaws.com, AWS::StackId a fake
//     stack ARN, AWS::NotificationARNs []); AWS::NoValue drops the key or
//     list element; resources → their logical ID. SAM's implicit resources
//     (ServerlessHttpApi, ServerlessRestApi, <Function>Role) can be named.
//   - Fn::Sub (string and [string, {vars}]; ${Param}, ${AWS::Region},
//     ${Res.Attr} as Fn::GetAtt, ${!Literal} → ${Literal}), Fn::Join,
//     Fn::Select, Fn::Split, Fn::FindInMap (with the LanguageExtensions
//     DefaultValue form), Fn::Base64.
//   - Fn::If with Conditions (Fn::Equals, Fn::And, Fn::Or, Fn::Not,
//     Condition). A resource whose Condition is false is left out.
//   - Fn::GetAtt is synthesized: Arn gives arn:aws:<service>:us-east-1:
//     123456789012:… built from the logical ID (lambda function:<ID>, sqs
//     <ID>, sns <ID>, dynamodb table/<ID>, iam role/<ID>, s3 :::<id>, …,
//     otherwise <service>:<kind>/<ID>); a few other well-known attributes
//     (QueueUrl, ApiEndpoint, ApiId, …) are faked; any other attribute gives
//     "<ID>.<Attribute>".
//   - Fn::ImportValue resolves to "" (as in SAM CLI, whose unresolved
//     values become empty), with a warning in Template.Warnings.
//   - Fn::GetAZs gives [<region>a, <region>b, <region>c].
//
// Anything else (Fn::Transform, Fn::Cidr, Fn::Length, Fn::ToJsonString, …)
// fails with ErrUnsupported and the property path, e.g.
// "Resources.ExtractFunction.Properties.Environment.Variables.X:
// unsupported intrinsic Fn::Transform".
//
// # Globals
//
// Globals.Function is merged into every AWS::Serverless::Function and
// Globals.HttpApi into every AWS::Serverless::HttpApi (implicit one
// included) as SAM does: the resource's primitives replace global ones,
// mappings merge recursively with resource keys winning, lists concatenate
// global entries first, intrinsics count as primitives, and on a type
// mismatch the resource wins. IgnoreGlobals is honoured. Properties SAM
// does not allow in Globals (Events, FunctionName, Role, Policies; StageName,
// DefinitionBody for APIs) are an error.
//
// # Environment
//
// A function's Environment is its resolved Environment.Variables, then, for
// declared variables only (SAM CLI's rule), the process environment
// (Options.LookupEnv), then an env-vars file (Options.EnvVarsFile,
// {"<LogicalID or FunctionName>": {…}, "Parameters": {…}}; the function's
// own entry wins over Parameters, the logical-ID entry over the
// FunctionName entry). Values are stringified: true → "true", numbers in
// decimal without exponent, null → "".
package template
