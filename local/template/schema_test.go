package template_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/questlog/questlog/local/template"
)

// repositoryTemplate is the project's SAM template, relative to this package.
const repositoryTemplate = "../../template.yaml"

// samSchemaPath is AWS's published SAM JSON schema (draft-04), copied from
// the shared reference so that CI on a fresh clone has it.
const samSchemaPath = "testdata/sam.schema.json"

// ecmaRegexp adapts regexp2 in ECMAScript mode to jsonschema.Regexp. The SAM
// schema needs lookahead ("^(?!AWS::Serverless::).+$"), which Go's regexp
// lacks.
type ecmaRegexp struct{ re *regexp2.Regexp }

func (r ecmaRegexp) MatchString(s string) bool {
	ok, err := r.re.MatchString(s)
	return err == nil && ok
}

func (r ecmaRegexp) String() string { return r.re.String() }

func compileECMA(expr string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(expr, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return ecmaRegexp{re}, nil
}

var samSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(samSchemaPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	if err := acceptWhatTheTranslatorAccepts(doc); err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(compileECMA)
	if err := c.AddResource("sam.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("sam.schema.json")
})

// acceptWhatTheTranslatorAccepts widens the published schema where SAM's
// translator, which is what sam deploy runs, accepts more
// (samtranslator/model/eventsources/pull.py, PullEventSource), so that the
// test fails for templates AWS rejects and only for those:
//
//   - KafkaBootstrapServers of SelfManagedKafka may be an intrinsic (!Ref
//     of a CommaDelimitedList hands every broker to the event source): the
//     translator skips type checks for intrinsics, while the schema wants a
//     literal list. A literal still has to be a list.
//   - MaximumBatchingWindowInSeconds is a property of every pull event in
//     the translator, and Lambda honours it for Kafka; the schema lists it
//     for SQS, Kinesis, DynamoDB and MSK but not for SelfManagedKafka.
func acceptWhatTheTranslatorAccepts(doc any) error {
	props, ok := dig(doc, "definitions", "SelfManagedKafkaEventProperties", "properties").(map[string]any)
	if !ok {
		return errors.New("the SAM schema has no SelfManagedKafkaEventProperties: update acceptWhatTheTranslatorAccepts")
	}
	servers, ok := props["KafkaBootstrapServers"]
	if !ok {
		return errors.New("the SAM schema's SelfManagedKafka has no KafkaBootstrapServers")
	}
	intrinsic := map[string]any{
		"type": "object", "minProperties": 1.0, "maxProperties": 1.0,
		"patternProperties": map[string]any{"^(Ref|Fn::[A-Za-z]+)$": map[string]any{}}, "additionalProperties": false,
	}
	props["KafkaBootstrapServers"] = map[string]any{"anyOf": []any{servers, intrinsic}}
	props["MaximumBatchingWindowInSeconds"] = map[string]any{"$ref": "#/definitions/PassThroughProp"}
	return nil
}

// dig walks nested JSON objects.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// validateSAM converts the YAML template at path to JSON with long-form
// intrinsics and validates it against the SAM schema. It returns the
// validation error (a *jsonschema.ValidationError) or nil; setup problems
// fail the test.
func validateSAM(t *testing.T, path string) error {
	t.Helper()
	sch, err := samSchema()
	if err != nil {
		t.Fatalf("compile %s: %v", samSchemaPath, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	js, err := template.ToJSON(data)
	if err != nil {
		t.Fatalf("%s: to json: %v", path, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatalf("%s: decode converted json: %v", path, err)
	}
	return sch.Validate(inst)
}

var printer = message.NewPrinter(language.English)

// relevantErrors flattens a validation error into "at '<location>': <msg>"
// lines, one per leaf, leaving out the anyOf branches that failed because
// their Type did not match. The SAM schema has one anyOf branch per
// resource type and per event type; without this, the one branch that
// matters is buried under a few hundred lines of "value must be 'S3'".
func relevantErrors(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{err.Error()}
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		causes := e.Causes
		if _, ok := e.ErrorKind.(*kind.AnyOf); ok {
			var kept []*jsonschema.ValidationError
			for _, c := range causes {
				if !typeMismatch(c, append(slices.Clone(e.InstanceLocation), "Type")) {
					kept = append(kept, c)
				}
			}
			if len(kept) > 0 {
				causes = kept
			}
		}
		if len(causes) == 0 {
			out = append(out, fmt.Sprintf("at '/%s': %s", strings.Join(e.InstanceLocation, "/"), e.ErrorKind.LocalizedString(printer)))
		}
		for _, c := range causes {
			walk(c)
		}
	}
	walk(ve)
	slices.Sort(out)
	return out
}

// typeMismatch reports whether e holds an enum, const or pattern failure
// at typeLoc, i.e. the branch is for another Type.
func typeMismatch(e *jsonschema.ValidationError, typeLoc []string) bool {
	if slices.Equal(e.InstanceLocation, typeLoc) {
		switch e.ErrorKind.(type) {
		case *kind.Enum, *kind.Const, *kind.Pattern:
			return true
		}
	}
	for _, c := range e.Causes {
		if typeMismatch(c, typeLoc) {
			return true
		}
	}
	return false
}

// TestRepositoryTemplateIsValidSAM validates the project's template.yaml
// against the published SAM schema. A missing template is a failure: the
// emulator has nothing to run without it.
func TestRepositoryTemplateIsValidSAM(t *testing.T) {
	if _, err := os.Stat(repositoryTemplate); err != nil {
		t.Fatalf("repository template: %v", err)
	}
	if err := validateSAM(t, repositoryTemplate); err != nil {
		t.Fatalf("%s is not valid SAM:\n%s", repositoryTemplate, strings.Join(relevantErrors(err), "\n"))
	}
}

// TestRepositoryTemplateLoads checks that the emulator can load the
// project's template with its defaults.
func TestRepositoryTemplateLoads(t *testing.T) {
	if _, err := os.Stat(repositoryTemplate); err != nil {
		t.Fatalf("repository template: %v", err)
	}
	tpl, err := template.Load(repositoryTemplate, template.Options{LookupEnv: noEnv})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(tpl.Functions) == 0 {
		t.Fatalf("%s declares no AWS::Serverless::Function", repositoryTemplate)
	}
	// The project's functions are Go binaries named bootstrap on
	// provided.al2023, built by the Makefile (see local/build).
	for _, fn := range tpl.Functions {
		if fn.Runtime != "provided.al2023" || fn.Handler != "bootstrap" || fn.BuildMethod != "makefile" {
			t.Errorf("%s: Runtime %q, Handler %q, BuildMethod %q; want provided.al2023, bootstrap, makefile",
				fn.LogicalID, fn.Runtime, fn.Handler, fn.BuildMethod)
		}
	}
}

func TestSchemaAcceptsValidFixture(t *testing.T) {
	if err := validateSAM(t, "testdata/app.yaml"); err != nil {
		t.Fatalf("testdata/app.yaml rejected:\n%s", strings.Join(relevantErrors(err), "\n"))
	}
}

// TestSchemaAcceptsWhatTheTranslatorAccepts checks the widening, one
// fixture per difference (see acceptWhatTheTranslatorAccepts).
func TestSchemaAcceptsWhatTheTranslatorAccepts(t *testing.T) {
	fixtures, err := filepath.Glob("testdata/schema/translator/*.yaml")
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range fixtures {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if err := validateSAM(t, f); err != nil {
				t.Errorf("rejected:\n%s", strings.Join(relevantErrors(err), "\n"))
			}
		})
	}
}

// TestSchemaRejects checks that the schema, as wired here, really rejects
// bad templates, so that a passing repository test means something, and
// that relevantErrors points at the cause.
func TestSchemaRejects(t *testing.T) {
	tests := []struct {
		file string
		want string // the only errors (one a line) once branches for other Types are set aside
	}{
		{"kafka-without-source-access.yaml", "at '/Resources/Consumer/Properties/Events/Stream/Properties': missing property 'SourceAccessConfigurations'"},
		{"kafka-bootstrap-servers-string.yaml", "at '/Resources/Consumer/Properties/Events/Stream/Properties/KafkaBootstrapServers': got string, want array\n" +
			"at '/Resources/Consumer/Properties/Events/Stream/Properties/KafkaBootstrapServers': got string, want object"},
		{"unknown-function-property.yaml", "at '/Resources/Ingest/Properties': additional properties 'Handlr' not allowed"},
		{"unknown-resource-property.yaml", "at '/Resources/Ingest': additional properties 'Propertes' not allowed"},
		{"globals-events.yaml", "at '/Globals/Function': additional properties 'Events' not allowed"},
		{"httpapi-unknown-property.yaml", "at '/Resources/Ingest/Properties/Events/Post/Properties': additional properties 'Verb' not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			err := validateSAM(t, filepath.Join("testdata", "schema", tt.file))
			if err == nil {
				t.Fatal("validation passed, want an error")
			}
			var ve *jsonschema.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v, want *jsonschema.ValidationError", err, err)
			}
			if got := relevantErrors(err); !slices.Equal(got, strings.Split(tt.want, "\n")) {
				t.Errorf("relevant errors:\n%s\nwant exactly:\n%s", strings.Join(got, "\n"), tt.want)
			}
		})
	}
}
