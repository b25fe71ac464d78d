package esm

import (
	"strings"
	"testing"
)

func TestFilterMatch(t *testing.T) {
	order := `{"kind":"purchase","amount":15,"price":300,"player":{"id":"p-42","level":7,"tags":["vip","eu"]},"note":"","gone":null,"items":[{"sku":"a1"},{"sku":"b2"}]}`
	tests := []struct {
		name    string
		pattern string
		value   string
		nilVal  bool
		want    bool
	}{
		// exact matches
		{"string equal", `{"value":{"kind":["purchase"]}}`, order, false, true},
		{"string differs", `{"value":{"kind":["refund"]}}`, order, false, false},
		{"string case matters", `{"value":{"kind":["Purchase"]}}`, order, false, false},
		{"OR within list", `{"value":{"kind":["refund","purchase"]}}`, order, false, true},
		{"number equal", `{"value":{"price":[300]}}`, order, false, true},
		{"number by text form", `{"value":{"price":[300.0]}}`, order, false, false},
		{"number vs string", `{"value":{"price":["300"]}}`, order, false, false},
		{"null", `{"value":{"gone":[null]}}`, order, false, true},
		{"null on missing", `{"value":{"absent":[null]}}`, order, false, false},
		{"empty string", `{"value":{"note":[""]}}`, order, false, true},
		{"empty string vs value", `{"value":{"kind":[""]}}`, order, false, false},
		{"boolean", `{"value":{"ok":[true]}}`, `{"ok":true}`, false, true},
		// AND across fields, nesting, arrays
		{"AND all true", `{"value":{"kind":["purchase"],"player":{"level":[7]}}}`, order, false, true},
		{"AND one false", `{"value":{"kind":["purchase"],"player":{"level":[8]}}}`, order, false, false},
		{"nested", `{"value":{"player":{"id":[{"prefix":"p-"}]}}}`, order, false, true},
		{"array element", `{"value":{"player":{"tags":["eu"]}}}`, order, false, true},
		{"array no element", `{"value":{"player":{"tags":["us"]}}}`, order, false, false},
		{"array of objects", `{"value":{"items":{"sku":["b2"]}}}`, order, false, true},
		{"object pattern vs scalar", `{"value":{"kind":{"x":["y"]}}}`, order, false, false},
		// operators
		{"prefix", `{"value":{"kind":[{"prefix":"pur"}]}}`, order, false, true},
		{"prefix no", `{"value":{"kind":[{"prefix":"ref"}]}}`, order, false, false},
		{"prefix on number", `{"value":{"price":[{"prefix":"3"}]}}`, order, false, false},
		{"suffix", `{"value":{"kind":[{"suffix":"chase"}]}}`, order, false, true},
		{"suffix no", `{"value":{"kind":[{"suffix":"x"}]}}`, order, false, false},
		{"equals-ignore-case", `{"value":{"kind":[{"equals-ignore-case":"PURCHASE"}]}}`, order, false, true},
		{"equals-ignore-case no", `{"value":{"kind":[{"equals-ignore-case":"REFUND"}]}}`, order, false, false},
		{"numeric range in", `{"value":{"amount":[{"numeric":[">",10,"<=",20]}]}}`, order, false, true},
		{"numeric range upper bound", `{"value":{"amount":[{"numeric":[">",10,"<=",15]}]}}`, order, false, true},
		{"numeric range out", `{"value":{"amount":[{"numeric":[">",15,"<=",20]}]}}`, order, false, false},
		{"numeric equal", `{"value":{"price":[{"numeric":["=",300.0]}]}}`, order, false, true},
		{"numeric lt", `{"value":{"amount":[{"numeric":["<",15]}]}}`, order, false, false},
		{"numeric ge", `{"value":{"amount":[{"numeric":[">=",15]}]}}`, order, false, true},
		{"numeric on string", `{"value":{"kind":[{"numeric":[">",0]}]}}`, order, false, false},
		{"exists true", `{"value":{"player":{"id":[{"exists":true}]}}}`, order, false, true},
		{"exists true on null", `{"value":{"gone":[{"exists":true}]}}`, order, false, true},
		{"exists true missing", `{"value":{"absent":[{"exists":true}]}}`, order, false, false},
		{"exists false missing", `{"value":{"absent":[{"exists":false}]}}`, order, false, true},
		{"exists false present", `{"value":{"kind":[{"exists":false}]}}`, order, false, false},
		{"exists false under missing parent", `{"value":{"nope":{"x":[{"exists":false}]}}}`, order, false, true},
		{"anything-but string", `{"value":{"kind":[{"anything-but":"refund"}]}}`, order, false, true},
		{"anything-but list hit", `{"value":{"kind":[{"anything-but":["refund","purchase"]}]}}`, order, false, false},
		{"anything-but number", `{"value":{"price":[{"anything-but":[100,200]}]}}`, order, false, true},
		{"anything-but number hit", `{"value":{"price":[{"anything-but":300}]}}`, order, false, false},
		{"anything-but missing", `{"value":{"absent":[{"anything-but":"x"}]}}`, order, false, false},
		{"anything-but null", `{"value":{"gone":[{"anything-but":"x"}]}}`, order, false, false},
		{"anything-but prefix", `{"value":{"kind":[{"anything-but":{"prefix":"ref"}}]}}`, order, false, true},
		{"anything-but prefix hit", `{"value":{"kind":[{"anything-but":{"prefix":"pur"}}]}}`, order, false, false},
		{"anything-but suffix hit", `{"value":{"kind":[{"anything-but":{"suffix":"ase"}}]}}`, order, false, false},
		{"mixed rule list", `{"value":{"kind":["refund",{"prefix":"pu"}]}}`, order, false, true},
		// plain strings
		{"plain exact", `{"value":["hello"]}`, "hello", false, true},
		{"plain prefix", `{"value":[{"prefix":"he"}]}`, "hello", false, true},
		{"plain no", `{"value":["bye"]}`, "hello", false, false},
		{"plain vs object pattern", `{"value":{"kind":["hello"]}}`, "hello", false, false},
		{"object value vs plain pattern", `{"value":[{"prefix":"{"}]}`, order, false, false},
		{"broken JSON is a plain string", `{"value":[{"prefix":"{broken"}]}`, "{broken", false, true},
		{"JSON array value is plain", `{"value":["[1,2]"]}`, "[1,2]", false, true},
		{"plain empty", `{"value":[""]}`, "", false, true},
		{"not utf-8", `{"value":[{"prefix":""}]}`, "\xff\xfe", false, false},
		// null value
		{"null value exists false", `{"value":[{"exists":false}]}`, "", true, true},
		{"null value exact", `{"value":[""]}`, "", true, false},
		{"null value object pattern", `{"value":{"kind":["x"]}}`, "", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := compileFilters([]string{tc.pattern})
			if err != nil {
				t.Fatalf("compile %s: %v", tc.pattern, err)
			}
			var v []byte
			if !tc.nilVal {
				v = []byte(tc.value)
			}
			if got := fs.match(v); got != tc.want {
				t.Errorf("match(%s, %q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
			}
		})
	}
}

func TestFilterOrAcrossPatterns(t *testing.T) {
	fs, err := compileFilters([]string{`{"value":{"kind":["a"]}}`, `{"value":{"kind":["b"]}}`, `{"value":["plain"]}`})
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]bool{`{"kind":"a"}`: true, `{"kind":"b"}`: true, `{"kind":"c"}`: false, "plain": true, "other": false} {
		if got := fs.match([]byte(v)); got != want {
			t.Errorf("match(%q) = %v, want %v", v, got, want)
		}
	}
	var none *filterSet
	if !none.match([]byte("anything")) || !none.match(nil) {
		t.Error("no filters must match everything")
	}
}

func TestFilterCompileErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{`{"value":`, "invalid JSON"},
		{`{"value":{"a":["x"]}} trailing`, "invalid JSON"},
		{`["x"]`, "must be a JSON object"},
		{`{}`, "empty"},
		{`{"key":["x"]}`, `"key" is not supported`},
		{`{"value":"x"}`, "must be an object or a list of rules"},
		{`{"value":{"a":[]}}`, "empty rule list"},
		{`{"value":{"a":[{"regex":"x"}]}}`, `unsupported operator "regex"`},
		{`{"value":{"a":[{"prefix":1}]}}`, "needs a string"},
		{`{"value":{"a":[{"numeric":[">"]}]}}`, `"numeric" needs`},
		{`{"value":{"a":[{"numeric":["!=",1]}]}}`, `operator "!="`},
		{`{"value":{"a":[{"numeric":[">","1"]}]}}`, "operand must be a number"},
		{`{"value":{"a":[{"numeric":["=",1,"<",2]}]}}`, "single comparison"},
		{`{"value":{"a":[{"exists":"yes"}]}}`, "true or false"},
		{`{"value":{"a":[{"anything-but":[]}]}}`, "list is empty"},
		{`{"value":{"a":[{"anything-but":{"wildcard":"x"}}]}}`, `"wildcard"`},
		{`{"value":{"a":[{"prefix":"a","suffix":"b"}]}}`, "exactly one operator"},
		{`{"value":{"a":[["nested"]]}}`, "unsupported rule"},
	}
	for _, tc := range tests {
		_, err := compileFilters([]string{`{"value":["ok"]}`, tc.pattern})
		if err == nil {
			t.Errorf("compile %s: no error, want %q", tc.pattern, tc.want)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "filter pattern 2") || !strings.Contains(msg, tc.pattern) {
			t.Errorf("compile %s: error %q, want it to name pattern 2 and contain %q", tc.pattern, msg, tc.want)
		}
	}
	six := []string{`{"value":["a"]}`, `{"value":["a"]}`, `{"value":["a"]}`, `{"value":["a"]}`, `{"value":["a"]}`, `{"value":["a"]}`}
	if _, err := compileFilters(six); err == nil || !strings.Contains(err.Error(), "at most 5") {
		t.Errorf("6 filters: error %v, want at most 5", err)
	}
}

func TestMappingDelivers(t *testing.T) {
	all, err := Mapping{}.Delivers()
	if err != nil || !all(nil) || !all([]byte("not json")) {
		t.Fatalf("a mapping without FilterCriteria must deliver everything (err %v)", err)
	}
	joins, err := Mapping{FilterPatterns: []string{`{"value": {"event_type": ["join_a_guild"]}}`}}.Delivers()
	if err != nil {
		t.Fatal(err)
	}
	for value, want := range map[string]bool{`{"event_type":"join_a_guild"}`: true, `{"event_type":"default"}`: false, "not json": false} {
		if got := joins([]byte(value)); got != want {
			t.Errorf("delivers %s = %v, want %v", value, got, want)
		}
	}
	if joins(nil) {
		t.Error("a null value matched an object pattern")
	}
	if _, err := (Mapping{FilterPatterns: []string{`{"value": 1}`}}).Delivers(); err == nil {
		t.Error("an invalid pattern compiled")
	}
}
