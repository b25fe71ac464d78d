package apigw

import (
	"encoding/json"
	"net/http"
	"unicode/utf8"
)

// fastParseV2 decodes the common shape of a 2.0 result without reflection:
// a JSON object whose keys are among statusCode (a non-negative integer),
// headers (an object of strings), multiValueHeaders (null), cookies (an
// array of strings), body (a string) and isBase64Encoded (a boolean), each
// possibly null, at most once. That covers what aws-lambda-go's
// events.APIGatewayV2HTTPResponse and aws-lambda-go-api-proxy produce.
// Anything else, including input encoding/json would reject, returns
// ok=false and the caller falls back to encoding/json, so the fast path
// never changes an outcome; a fuzz test compares the two.
func fastParseV2(payload []byte) (resp *proxyResponse, ok bool) {
	p := fastParser{b: payload}
	p.ws()
	if !p.eat('{') {
		return nil, false
	}
	var (
		seen     uint8
		status   = -1
		body     string
		isBase64 bool
		header   http.Header
		cookies  []string
	)
	p.ws()
	if p.eat('}') {
		return nil, false // {} has no statusCode: the slow path treats it as a raw body
	}
	for {
		p.ws()
		key, ok := p.str()
		if !ok {
			return nil, false
		}
		p.ws()
		if !p.eat(':') {
			return nil, false
		}
		p.ws()
		var bit uint8
		switch key {
		case "statusCode":
			bit = 1
			n, ok := p.uint()
			if !ok {
				return nil, false
			}
			status = n
		case "headers":
			bit = 2
			if !p.null() {
				if header, ok = p.stringMap(); !ok {
					return nil, false
				}
			}
		case "multiValueHeaders":
			bit = 4
			if !p.null() {
				return nil, false
			}
		case "cookies":
			bit = 8
			if !p.null() {
				if cookies, ok = p.stringArray(); !ok {
					return nil, false
				}
			}
		case "body":
			bit = 16
			if !p.null() {
				if body, ok = p.str(); !ok {
					return nil, false
				}
			}
		case "isBase64Encoded":
			bit = 32
			switch {
			case p.lit("true"):
				isBase64 = true
			case p.lit("false"), p.null():
			default:
				return nil, false
			}
		default:
			return nil, false
		}
		if seen&bit != 0 {
			return nil, false
		}
		seen |= bit
		p.ws()
		if p.eat(',') {
			continue
		}
		if !p.eat('}') {
			return nil, false
		}
		break
	}
	p.ws()
	if p.i != len(p.b) || status < 100 || status > 599 {
		return nil, false
	}
	decoded, err := decodeBody(body, isBase64)
	if err != nil {
		return nil, false
	}
	if header == nil {
		header = make(http.Header, 1)
	}
	return &proxyResponse{status: status, header: header, cookies: cookies, body: decoded}, true
}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *fastParser) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

func (p *fastParser) null() bool { return p.lit("null") }

// uint reads a JSON integer without sign, fraction or exponent, at most 9
// digits (statusCode).
func (p *fastParser) uint() (int, bool) {
	start := p.i
	n := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' && p.i-start < 9 {
		n = n*10 + int(p.b[p.i]-'0')
		p.i++
	}
	if p.i == start || (p.b[start] == '0' && p.i-start > 1) {
		return 0, false
	}
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case '.', 'e', 'E', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return 0, false
		}
	}
	return n, true
}

// str reads a JSON string. Strings with escapes are decoded by
// encoding/json; strings with control characters or invalid UTF-8 are
// refused (encoding/json rejects the former and rewrites the latter).
func (p *fastParser) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	escaped, ascii := false, true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.Valid(raw) {
				return "", false
			}
			if !escaped {
				return string(raw), true
			}
			var s string
			if err := json.Unmarshal(p.b[start-1:p.i], &s); err != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			escaped = true
			p.i += 2
			continue
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		p.i++
	}
	return "", false
}

// stringMap reads an object of strings into a canonicalised http.Header
// (Set semantics: a later key wins, as with a Go map decode).
func (p *fastParser) stringMap() (http.Header, bool) {
	if !p.eat('{') {
		return nil, false
	}
	h := make(http.Header, 4)
	p.ws()
	if p.eat('}') {
		return h, true
	}
	for {
		p.ws()
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		p.ws()
		if !p.eat(':') {
			return nil, false
		}
		p.ws()
		v, ok := p.str()
		if !ok {
			return nil, false
		}
		if !skipResponseHeader(k) {
			ck := http.CanonicalHeaderKey(k)
			if _, dup := h[ck]; dup {
				return nil, false // leave repeated names to encoding/json
			}
			h[ck] = []string{v}
		}
		p.ws()
		if p.eat(',') {
			continue
		}
		return h, p.eat('}')
	}
}

func (p *fastParser) stringArray() ([]string, bool) {
	if !p.eat('[') {
		return nil, false
	}
	var out []string
	p.ws()
	if p.eat(']') {
		return out, true
	}
	for {
		p.ws()
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		p.ws()
		if p.eat(',') {
			continue
		}
		return out, p.eat(']')
	}
}
