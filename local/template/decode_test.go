package template_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/questlog/questlog/local/template"
)

func TestToJSONLongForms(t *testing.T) {
	in := `
Transform: AWS::Serverless-2016-10-31
Defaults: &defaults
  Merged: from-anchor
  Kept: anchor
Values:
  <<: *defaults
  Kept: explicit
  Ref: !Ref Stage
  Sub: !Sub "${AWS::Region}-x"
  SubList: !Sub ["${A}", {A: !Ref Stage}]
  GetAttDot: !GetAtt Queue.Arn
  GetAttNested: !GetAtt Db.Endpoint.Address
  GetAttList: !GetAtt [Queue, Arn]
  Join: !Join [",", [a, b]]
  If: !If [IsProd, 1, !Ref AWS::NoValue]
  Equals: !Equals [a, b]
  And: !And [!Condition A, !Condition B]
  Or: !Or [!Condition A, !Not [!Condition B]]
  Select: !Select [0, !Split [",", "a,b"]]
  FindInMap: !FindInMap [M, k1, k2]
  Base64: !Base64 text
  ImportValue: !ImportValue exported
  GetAZs: !GetAZs ""
  Cidr: !Cidr [10.0.0.0/16, 2, 8]
  Alias: *defaults
  Types: [1, 2.5, true, null, "007", 2024-01-02, "yes", on]
`
	out, err := template.ToJSON([]byte(in))
	if err != nil {
		t.Fatalf("ToJSON: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("ToJSON produced invalid JSON: %v\n%s", err, out)
	}
	const want = `{
  "Transform": "AWS::Serverless-2016-10-31",
  "Defaults": {"Merged": "from-anchor", "Kept": "anchor"},
  "Values": {
    "Merged": "from-anchor",
    "Kept": "explicit",
    "Ref": {"Ref": "Stage"},
    "Sub": {"Fn::Sub": "${AWS::Region}-x"},
    "SubList": {"Fn::Sub": ["${A}", {"A": {"Ref": "Stage"}}]},
    "GetAttDot": {"Fn::GetAtt": ["Queue", "Arn"]},
    "GetAttNested": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
    "GetAttList": {"Fn::GetAtt": ["Queue", "Arn"]},
    "Join": {"Fn::Join": [",", ["a", "b"]]},
    "If": {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]},
    "Equals": {"Fn::Equals": ["a", "b"]},
    "And": {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]},
    "Or": {"Fn::Or": [{"Condition": "A"}, {"Fn::Not": [{"Condition": "B"}]}]},
    "Select": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
    "FindInMap": {"Fn::FindInMap": ["M", "k1", "k2"]},
    "Base64": {"Fn::Base64": "text"},
    "ImportValue": {"Fn::ImportValue": "exported"},
    "GetAZs": {"Fn::GetAZs": ""},
    "Cidr": {"Fn::Cidr": ["10.0.0.0/16", 2, 8]},
    "Alias": {"Merged": "from-anchor", "Kept": "anchor"},
    "Types": [1, 2.5, true, null, "007", "2024-01-02", "yes", "on"]
  }
}`
	var wantDoc map[string]any
	if err := json.Unmarshal([]byte(want), &wantDoc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantDoc) {
		for k := range maps.Keys(wantDoc["Values"].(map[string]any)) {
			g, w := got["Values"].(map[string]any)[k], wantDoc["Values"].(map[string]any)[k]
			if !reflect.DeepEqual(g, w) {
				t.Errorf("Values.%s = %#v, want %#v", k, g, w)
			}
		}
		t.Fatalf("ToJSON =\n%s", out)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"", "empty template"},
		{"- a\n- b\n", "line 1: template must be a mapping, got a list"},
		{"A: !GetAtt NoDot\n", `line 1: !GetAtt "NoDot": want Resource.Attribute`},
		{"A: !Custom x\n", "line 1: unknown tag !Custom"},
		{"A: [\n", "parse yaml"},
		{"A: 1\nA: 2\n", `line 2: duplicate key "A"`},
	}
	for _, tt := range tests {
		_, err := template.Decode([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Decode(%q) error = %v, want it to contain %q", tt.in, err, tt.msg)
		}
	}
}

func TestParseParameterOverrides(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"Stage=prod", map[string]string{"Stage": "prod"}},
		{"  A=1   B=two  ", map[string]string{"A": "1", "B": "two"}},
		{`Msg="hello world" Path='/a b/c'`, map[string]string{"Msg": "hello world", "Path": "/a b/c"}},
		{`Q="say \"hi\""`, map[string]string{"Q": `say "hi"`}},
		{`Esc=a\ b`, map[string]string{"Esc": "a b"}},
		{"Empty= Also=\"\"", map[string]string{"Empty": "", "Also": ""}},
		{"Eq=a=b", map[string]string{"Eq": "a=b"}},
		{"List=a,b,c", map[string]string{"List": "a,b,c"}},
		{"ParameterKey=Stage,ParameterValue=prod", map[string]string{"Stage": "prod"}},
		{`ParameterKey=Brokers,ParameterValue="b1:9092,b2:9092" Stage=dev`, map[string]string{"Brokers": "b1:9092,b2:9092", "Stage": "dev"}},
		{`ParameterKey=Msg,ParameterValue="a b"`, map[string]string{"Msg": "a b"}},
		{"A=1 A=2", map[string]string{"A": "2"}},
	}
	for _, tt := range tests {
		got, err := template.ParseParameterOverrides(tt.in)
		if err != nil {
			t.Errorf("ParseParameterOverrides(%q): %v", tt.in, err)
			continue
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("ParseParameterOverrides(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}

	bad := []struct{ in, msg string }{
		{"Stage", `parameter override "Stage": want Key=Value`},
		{"ParameterKey=Stage", `parameter override "ParameterKey=Stage": want ParameterKey=Key,ParameterValue=Value`},
		{`A="open`, "unterminated \" quote"},
		{"my-param=1", `parameter override "my-param=1": parameter names are alphanumeric`},
		{"=1", `parameter override "=1": parameter names are alphanumeric`},
	}
	for _, tt := range bad {
		_, err := template.ParseParameterOverrides(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseParameterOverrides(%q) error = %v, want it to contain %q", tt.in, err, tt.msg)
		}
	}
}
