package apigw

import (
	"bytes"
	"maps"
	"slices"
	"testing"
)

var fastParseSeeds = []string{
	`{"statusCode":200,"headers":{"Content-Type":"text/plain; charset=utf-8","X-App":"questlog"},"multiValueHeaders":null,"body":"purchased a sword","cookies":[]}`,
	`{"statusCode":201,"headers":{"content-type":"application/json"},"body":"{\"ok\":true,\"u\":\"\u00e9\ud83d\ude00\"}","cookies":["a=1; Path=/","b=2"],"isBase64Encoded":false}`,
	`{"statusCode":200,"isBase64Encoded":true,"body":"AP8Q"}`,
	` { "statusCode" : 404 , "headers" : null , "body" : null , "cookies" : null } `,
	`{"statusCode":200,"headers":{"a":"1","A":"2"}}`,
	`{"statusCode":200,"headers":{"content-length":"9"},"body":"x"}`,
	`{"statusCode":0200}`, `{"statusCode":200.0}`, `{"statusCode":-1}`, `{"statusCode":99}`, `{"statusCode":1e2}`,
	`{"statusCode":200,"statusCode":201}`, `{"StatusCode":200}`, `{"statusCode":200}x`, `{"statusCode":200,}`,
	`{"statusCode":200,"body":"a\u0000b"}`, "{\"statusCode\":200,\"body\":\"\x01\"}", "{\"statusCode\":200,\"body\":\"\xff\"}",
	`{"statusCode":200,"body":"\x"}`, `{"statusCode":200,"body":"\"}`, `{}`, `[]`, `"s"`, `null`, ``, `{"a":1}`,
	`{"statusCode":200,"multiValueHeaders":{"a":["b"]}}`, `{"statusCode":200,"isBase64Encoded":true,"body":"!"}`,
	`{"statusCode":200,"cookies":["a",1]}`, `{"statusCode":200,"headers":{"a":1}}`, `{"statusCode":200,"isBase64Encoded":"true"}`,
}

// TestFastParseAgreesWithEncodingJSON and FuzzFastParseV2 check that the
// fast path, whenever it accepts a payload, gives what encoding/json gives.
func TestFastParseAgreesWithEncodingJSON(t *testing.T) {
	accepted := 0
	for _, s := range fastParseSeeds {
		if compareParsers(t, []byte(s)) {
			accepted++
		}
	}
	if accepted < 5 {
		t.Errorf("fast path accepted only %d seeds", accepted)
	}
}

func FuzzFastParseV2(f *testing.F) {
	for _, s := range fastParseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { compareParsers(t, b) })
}

func compareParsers(t *testing.T, b []byte) bool {
	t.Helper()
	fast, ok := fastParseV2(b)
	if !ok {
		return false
	}
	slow, err := slowParseV2(b)
	if err != nil {
		t.Fatalf("%q: fast path accepted, encoding/json path failed: %v", b, err)
	}
	if fast.status != slow.status || !bytes.Equal(fast.body, slow.body) || !slices.Equal(fast.cookies, slow.cookies) ||
		!maps.EqualFunc(fast.header, slow.header, slices.Equal) {
		t.Fatalf("%q:\nfast %+v\nslow %+v", b, fast, slow)
	}
	return true
}
