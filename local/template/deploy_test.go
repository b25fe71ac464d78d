package template_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/questlog/questlog/local/build"
	"github.com/questlog/questlog/local/template"
)

// The template questlog build writes for sam deploy (every function's
// CodeUri its build folder) is valid SAM too.
func TestBuiltTemplateIsValidSAM(t *testing.T) {
	tpl, err := template.Load(repositoryTemplate, template.Options{LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	buildDir := t.TempDir()
	for _, fn := range tpl.Functions {
		bootstrap := filepath.Join(buildDir, fn.LogicalID, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(bootstrap), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bootstrap, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	built, err := build.WriteTemplate(repositoryTemplate, build.Options{ProjectDir: "../..", BuildDir: buildDir})
	if err != nil {
		t.Fatal(err)
	}
	if err := validateSAM(t, built); err != nil {
		t.Fatalf("%s is not valid SAM:\n%s", built, strings.Join(relevantErrors(err), "\n"))
	}
}

// What SAM's translator checks on SelfManagedKafka events beyond the
// schema (samtranslator/model/eventsources/pull.py, SelfManagedKafka):
// one topic; SourceAccessConfigurations a literal list of mappings, each
// with a known Type and a URI, with VPC_SUBNET and VPC_SECURITY_GROUP
// together. An intrinsic in place of an entry (say !If to make a third
// subnet optional) fails there, not in the schema.
func TestKafkaEventsPassTheTranslatorChecks(t *testing.T) {
	data, err := os.ReadFile(repositoryTemplate)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := template.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"VPC_SUBNET": true, "VPC_SECURITY_GROUP": true, "SASL_SCRAM_256_AUTH": true,
		"SASL_SCRAM_512_AUTH": true, "BASIC_AUTH": true, "CLIENT_CERTIFICATE_TLS_AUTH": true, "SERVER_ROOT_CA_CERTIFICATE": true}
	events := 0
	for id, res := range asMap(asMap(doc)["Resources"]) {
		for name, ev := range asMap(dig(res, "Properties", "Events")) {
			if dig(ev, "Type") != "SelfManagedKafka" {
				continue
			}
			events++
			where := id + "." + name
			props := asMap(dig(ev, "Properties"))
			if topics, ok := props["Topics"].([]any); !ok || len(topics) != 1 {
				t.Errorf("%s: Topics %v, want a list of one", where, props["Topics"])
			}
			confs, ok := props["SourceAccessConfigurations"].([]any)
			if !ok {
				t.Errorf("%s: SourceAccessConfigurations is %T, want a literal list", where, props["SourceAccessConfigurations"])
				continue
			}
			types := map[string]int{}
			for i, c := range confs {
				typ, _ := dig(c, "Type").(string)
				if !known[typ] || dig(c, "URI") == nil {
					t.Errorf("%s: SourceAccessConfigurations[%d] = %v, want a mapping with a known Type and a URI", where, i, c)
				}
				types[typ]++
			}
			if types["VPC_SUBNET"] < 2 || types["VPC_SECURITY_GROUP"] < 1 {
				t.Errorf("%s: %d subnets and %d security groups for the pollers, want two subnets (two Availability Zones) and a group", where, types["VPC_SUBNET"], types["VPC_SECURITY_GROUP"])
			}
		}
	}
	if events == 0 {
		t.Fatal("no SelfManagedKafka event in the template")
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// Every broker reaches the event sources, and the batching window is
// Lambda's 500 ms unless KafkaBatchingWindowSeconds sets one.
func TestRepositoryKafkaEventsTakeEveryBrokerAndTheWindow(t *testing.T) {
	for _, tt := range []struct {
		overrides map[string]string
		window    time.Duration
	}{
		{nil, 500 * time.Millisecond},
		{map[string]string{"KafkaBatchingWindowSeconds": "30"}, 30 * time.Second},
	} {
		overrides := map[string]string{"KafkaBootstrapServers": "b1:9092,b2:9092,b3:9092"}
		maps.Copy(overrides, tt.overrides)
		tpl, err := template.Load(repositoryTemplate, template.Options{LookupEnv: noEnv, ParameterOverrides: overrides})
		if err != nil {
			t.Fatal(err)
		}
		for _, fn := range tpl.Functions {
			for _, ev := range fn.KafkaEvents {
				if !slices.Equal(ev.BootstrapServers, []string{"b1:9092", "b2:9092", "b3:9092"}) || ev.BatchingWindow != tt.window {
					t.Errorf("%s with %v: brokers %v, window %v; want all three, %v", fn.LogicalID, tt.overrides, ev.BootstrapServers, ev.BatchingWindow, tt.window)
				}
			}
		}
	}
}
