package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// httpCase is one request of the hostile corpus, as raw bytes: what a
// careless or malicious client can put on the wire, which no HTTP library
// would send.
type httpCase struct {
	name string
	raw  []byte
	// read: a request of a route that records no event (GET /inventory),
	// whose 2xx carries no X-Event-Id.
	read bool
}

// smugglePrefix names the players of requests hidden inside other requests'
// bodies: an event of such a player means a smuggled request ran.
const smugglePrefix = "smuggled-"

// httpCorpus builds the hostile requests for the API at host (host:port):
// bad paths, encodings, oversized headers and bodies, malformed and tricky
// JSON, smuggling attempts and credentials in headers.
func httpCorpus(host string, sec *secrets) []httpCase {
	var cases []httpCase
	add := func(name, raw string) {
		cases = append(cases, httpCase{name: name, raw: []byte(strings.ReplaceAll(raw, "{host}", host)), read: strings.HasPrefix(raw, "GET /inventory/") || strings.HasPrefix(raw, "OPTIONS ")})
	}
	get := func(name, target string, headers ...string) {
		add(name, "GET "+target+" HTTP/1.1\r\nHost: {host}\r\nUser-Agent: questlog-chaos\r\n"+strings.Join(headers, "")+"Connection: close\r\n\r\n")
	}
	post := func(name, target, body string, headers ...string) {
		add(name, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: {host}\r\nUser-Agent: questlog-chaos\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n%s",
			target, len(body), strings.Join(headers, ""), body))
	}

	// Paths and names.
	for _, p := range []string{
		"/../../../etc/passwd", "/purchase_a_sword/..", "/purchase_a_sword/%2E%2E", "/purchase_a_sword/%2e%2e", "/purchase_a_sword/.",
		"/purchase_a_sword/%2E", "/inventory/..", "/inventory/%2E%2E", "/purchase_a_sword/%00", "/purchase_a_sword/%ZZ",
		"/purchase_a_sword/%C0%AE%C0%AE", "/purchase_a_sword/%F0%9F%98%80", "/purchase_a_sword/a%2Fb", "/purchase_a_sword/",
		"//purchase_a_sword//double", "/purchase_a_sword/q?%%%", "/join_a_guild/a/b/c", "/join_a_guild/a/%2E%2E",
		"/purchase_a_sword/" + strings.Repeat("n", 65), "/purchase_a_sword/%3Cscript%3E", "/purchase/x/shield%00",
		"/purchase/x/SHIELD", "/purchase/x/shield?quantity=1e3", "/purchase/x/shield?quantity=-1&price_cents=9999999999999999999999",
		"/" + strings.Repeat("a", 8<<10), "/" + strings.Repeat("b", 100<<10),
		"http://evil.example/purchase_a_sword/absolute", "/purchase_a_sword/a\tb",
	} {
		get("path "+clip(p, 40), p)
	}
	add("OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
	add("CONNECT", "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n")
	add("DELETE on a route", "DELETE /purchase/x HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
	add("TRACE", "TRACE / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
	add("HTTP/0.9 request line", "GET /\r\n\r\n")
	add("HTTP/2.0 over HTTP/1 framing", "GET / HTTP/2.0\r\nHost: {host}\r\n\r\n")
	add("HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n")
	add("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
	add("two Host headers", "GET / HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
	add("not HTTP", "GARBAGE\r\n\r\n")
	add("space in the target", "GET /purchase_a_sword/a b HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
	add("bare LF line endings", "GET /purchase_a_sword/barelf HTTP/1.1\nHost: {host}\nConnection: close\n\n")

	// Headers.
	get("one 64 KB header", "/", "X-Big: "+strings.Repeat("h", 64<<10)+"\r\n")
	get("one 2 MB header", "/", "X-Huge: "+strings.Repeat("h", 2<<20)+"\r\n")
	get("5,000 headers", "/", strings.Repeat("X-Many: m\r\n", 5000))
	get("100 KB cookie", "/", "Cookie: c="+strings.Repeat("c", 100<<10)+"\r\n")
	get("header without a colon", "/", "NoColonHere\r\n")
	get("space before the colon", "/", "X-Space : v\r\n")
	get("obsolete line folding", "/", "X-Fold: a\r\n b\r\n")
	get("control character in a header", "/", "X-Ctl: a\x01b\r\n")
	get("non-UTF-8 header value", "/", "X-Latin: caf\xe9\r\n")
	get("Expect: 100-continue without a body", "/", "Expect: 100-continue\r\n")

	// Encodings.
	post("gzip Content-Encoding on plain JSON", "/purchase/enc-gzip", `{"item_type":"shield"}`, "Content-Encoding: gzip\r\n")
	post("UTF-16 body", "/purchase/enc-utf16", "\xff\xfe{\x00\"\x00i\x00\"\x00}\x00", "Content-Type: application/json; charset=utf-16\r\n")
	post("byte order mark", "/purchase/enc-bom", "\xef\xbb\xbf{\"item_type\":\"shield\"}")
	post("invalid UTF-8 in a string", "/purchase/enc-utf8", "{\"item_type\":\"sh\xffeld\"}")
	post("NUL in the body", "/purchase/enc-nul", "{\"item_type\":\"shield\"}\x00")
	post("form-encoded JSON", "/purchase/enc-form", "item_type=shield", "Content-Type: application/x-www-form-urlencoded\r\n")
	add("Transfer-Encoding gzip, chunked", "POST /purchase/enc-te HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	add("unknown Transfer-Encoding", "POST /purchase/enc-te2 HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: identity\r\nConnection: close\r\n\r\n{}")

	// Bodies.
	post("body just over 16 KiB", "/purchase/big-16k", `{"item_type":"shield","cart_id":"`+strings.Repeat("c", 16<<10)+`"}`)
	post("7 MB body", "/purchase/big-7m", `{"item_type":"shield","cart_id":"`+strings.Repeat("c", 7<<20)+`"}`)
	post("1 MB of whitespace around valid JSON", "/purchase/big-ws", strings.Repeat(" ", 1<<20)+`{"item_type":"shield"}`)
	add("Content-Length larger than the body", "POST /purchase/big-cl HTTP/1.1\r\nHost: {host}\r\nContent-Length: 10000000000\r\nConnection: close\r\n\r\n{}")
	add("negative Content-Length", "POST /purchase/big-neg HTTP/1.1\r\nHost: {host}\r\nContent-Length: -1\r\nConnection: close\r\n\r\n{}")
	add("Content-Length not a number", "POST /purchase/big-nan HTTP/1.1\r\nHost: {host}\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{}")
	add("huge chunk size", "POST /purchase/big-chunk HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nffffffffffffffff\r\nx\r\n0\r\n\r\n")
	add("GET with a body", "GET /purchase_a_sword/getbody HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")

	// JSON.
	for i, body := range []string{
		`{`, `}`, `[]`, `null`, `"shield"`, `42`, ``, `{"item_type":"shield"}{"x":1}`, `{"item_type":"shield"} trailing`,
		`{"item_type":"shield","item_type":"ring"}`, `{"ITEM_TYPE":"ring"}`, `{"Item_Type":"ring"}`,
		`{"item_type":"shield","quantity":1e400}`, `{"item_type":"shield","quantity":1.5}`, `{"item_type":"shield","quantity":"2"}`,
		`{"item_type":"shield","quantity":-1}`, `{"item_type":"shield","quantity":0}`, `{"item_type":"shield","quantity":100}`,
		`{"item_type":"shield","price_cents":-1}`, `{"item_type":"shield","price_cents":1e3}`, `{"item_type":"\u0073hield"}`,
		`{"item_type":"shield\u0000"}`, `{"item_type":"\ud800"}`, `{"item_type":"shield","extra":1}`, `{"item_type":"shield"/*c*/}`,
		`{"item_type":"shield",}`, `{"item_type":null}`, `{"item_type":"shield","currency":"GOLD"}`, `{"item_type":"shield","currency":"btc"}`,
		`{"item_type":"shield","store_id":"../../etc"}`, `{"item_type":"shield","cart_id":"x y"}`, `{"quantity":NaN}`,
		`{"item_type":"shield","x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`,
		`{"item_type":"ring","quantity":99,"price_cents":0}`, `{"item_type":["shield"]}`, `{"item_type":{"$ne":null}}`,
	} {
		post(fmt.Sprintf("JSON %s", clip(body, 40)), fmt.Sprintf("/purchase/json-%d", i), body)
	}
	// Money: the largest price, then an ordinary purchase by the same player.
	post("JSON price_cents max int64", "/purchase/json-overflow", `{"item_type":"shield","price_cents":9223372036854775807}`)
	post("JSON a purchase after max int64", "/purchase/json-overflow", `{"item_type":"shield"}`)

	// Smuggling: a second request hidden in a body whose framing RFC 9112
	// calls ambiguous. A server must reject these (400) or, for
	// Content-Length beside Transfer-Encoding, close the connection after
	// answering (§6.1); either way the hidden request must never run, or a
	// proxy in front that frames the body the other way is smuggled past.
	inner := func(i int) string {
		return fmt.Sprintf("GET /purchase_a_sword/%s%d HTTP/1.1\r\nHost: %s\r\n\r\n", smugglePrefix, i, host)
	}
	smuggle := []struct{ name, headers, body string }{
		{"CL.TE", "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + inner(1)},
		{"TE.CL", "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(inner(2)), inner(2))},
		{"two different Content-Lengths", "Content-Length: 2\r\nContent-Length: 60\r\n", "{}" + inner(3)},
		{"chunked not the last coding", "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", "0\r\n\r\n" + inner(4)},
		{"space before the colon of TE", "Transfer-Encoding : chunked\r\nContent-Length: 2\r\n", "{}" + inner(5)},
		{"xchunked", "Transfer-Encoding: xchunked\r\nContent-Length: 2\r\n", "{}" + inner(6)},
		{"Content-Length with a plus", "Content-Length: +2\r\n", "{}" + inner(7)},
		{"LF-only chunk framing", "Transfer-Encoding: chunked\r\n", "2\n{}\n0\n\n" + inner(8)},
		{"obsolete line folding of TE", "Transfer-Encoding: identity\r\n chunked\r\nContent-Length: 2\r\n", "{}" + inner(9)},
	}
	for _, s := range smuggle {
		add("smuggling "+s.name, "POST /purchase/smuggler HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"+s.headers+"\r\n"+s.body)
	}
	// Honest pipelining: both requests must run and both be answered.
	add("two pipelined requests", "GET /purchase_a_sword/pipelined-1 HTTP/1.1\r\nHost: {host}\r\n\r\nGET /purchase_a_sword/pipelined-2 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")

	// Credentials, one header each, on a route that records headers. None
	// may reach Kafka, Parquet or the logs.
	for _, h := range []struct{ name, format string }{
		{"Authorization", "Bearer %s"}, {"authorization", "Basic %s"}, {"Proxy-Authorization", "Basic %s"},
		{"Cookie", "session=%s"}, {"Set-Cookie", "sid=%s"}, {"X-Api-Key", "%s"}, {"X-API_KEY", "%s"}, {"Api_Key", "%s"},
		{"X-Access-Key", "%s"}, {"X-Private-Key", "%s"}, {"X-Pwd", "%s"}, {"X-Pass", "%s"}, {"X-Passphrase", "%s"},
		{"X-Jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaGFvcyJ9.%s"}, {"X-Sid", "%s"}, {"X-Custom", "Bearer %s"},
		{"Referer", "https://game.example/callback?token=%s"}, {"X-Amz-Security-Token", "%s"}, {"X-Csrf-Token", "%s"},
		{"X-Client-Secret", "%s"}, {"X-Session-Id", "%s"}, {"X-Upstream-Api-Key", "%s"}, {"X-Auth", "%s"},
		{"X-Forwarded-Authorization", "Bearer %s"}, {"X-Signature", "%s"}, {"X-Credential", "%s"},
	} {
		get("credential in "+h.name, "/", h.name+": "+fmt.Sprintf(h.format, sec.add("HTTP "+h.name, false))+"\r\n")
	}
	// A credential in the query string of a route.
	get("credential in the query", "/purchase/query-cred/shield?api_key="+sec.add("HTTP query api_key", false))
	return cases
}

func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '.'
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// answer is one HTTP response read off a connection.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// exchange writes a raw request and reads every response the server sends
// back before it closes the connection or goes quiet.
func exchange(ctx context.Context, addr string, raw []byte) ([]answer, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { conn.Write(raw) }() // a server may answer (413) before it read everything
	br := bufio.NewReader(conn)
	var out []answer
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			if len(out) > 0 || errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		out = append(out, answer{status: resp.StatusCode, header: resp.Header, body: body})
		conn.SetReadDeadline(time.Now().Add(time.Second)) // the next answer, if any, comes at once
	}
}

// httpResult sums up rounds of the hostile corpus.
type httpResult struct {
	mu        sync.Mutex
	requests  int
	byClass   map[string]int // "2xx", "4xx", "5xx", "no answer"
	nonJSON   map[string]int // error answers whose body is not {"message": …}, by status
	fiveXX    map[string]int // case name → 5xx answers
	eventIDs  []string
	noEventID int            // 2xx answers of event routes without X-Event-Id
	noAnswer  map[string]int // case name → requests the server never answered
	slow      map[string]*slowTally
}

type slowTally struct{ clients, heldOpen int }

func newHTTPResult() *httpResult {
	return &httpResult{byClass: map[string]int{}, nonJSON: map[string]int{}, fiveXX: map[string]int{}, noAnswer: map[string]int{}, slow: map[string]*slowTally{}}
}

func (r *httpResult) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

func (r *httpResult) record(c httpCase, answers []answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if len(answers) == 0 {
		r.byClass["no answer"]++
		r.noAnswer[c.name]++
		return
	}
	name := c.name
	for _, a := range answers {
		class := fmt.Sprintf("%dxx", a.status/100)
		r.byClass[class]++
		if a.status >= 500 {
			r.fiveXX[fmt.Sprintf("%s (%d)", name, a.status)]++
		}
		if a.status/100 == 2 {
			if id := a.header.Get("X-Event-Id"); id != "" {
				r.eventIDs = append(r.eventIDs, id)
			} else if !c.read {
				r.noEventID++
			}
		}
		if a.status >= 400 && !isJSONMessage(a.body) {
			r.nonJSON[fmt.Sprint(a.status)]++
		}
	}
}

// isJSONMessage reports whether an error body is what API Gateway sends:
// a JSON object with a message.
func isJSONMessage(body []byte) bool {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	_, ok := m["message"]
	return ok
}

// runHTTPCorpus sends every case, a few connections at a time, and holds
// slow clients open for hold meanwhile.
func runHTTPCorpus(ctx context.Context, addr string, cases []httpCase, slowClients int, hold time.Duration, res *httpResult) {
	var wg sync.WaitGroup
	for _, k := range slowKinds(addr) {
		for range slowClients {
			wg.Go(func() { res.slowDone(k.name, slowClient(ctx, addr, k, hold, res)) })
		}
	}
	work := make(chan httpCase)
	for range 4 {
		wg.Go(func() {
			for c := range work {
				answers, _ := exchange(ctx, addr, c.raw) // no answer is an outcome too
				res.record(c, answers)
			}
		})
	}
	for _, c := range cases {
		select {
		case work <- c:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
}

// slowKind is a client that sends start, then one byte of drip a second.
type slowKind struct {
	name        string
	start, drip []byte
	// answered: start is a whole request whose answer comes first (an idle
	// keep-alive connection).
	answered bool
}

func slowKinds(host string) []slowKind {
	return []slowKind{
		{name: "slow headers", start: []byte("GET / HTTP/1.1\r\nHost: " + host + "\r\n"), drip: []byte(strings.Repeat("X-Slow: s\r\n", 100))},
		{name: "slow body", start: []byte("POST /purchase/slow-body HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"),
			drip: []byte(`{"item_type":"shield","cart_id":"` + strings.Repeat("c", 200))},
		{name: "idle keep-alive", start: []byte("GET / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: questlog-chaos\r\n\r\n"), answered: true},
		{name: "stalled 6 MB body", start: append([]byte("POST /purchase/stalled HTTP/1.1\r\nHost: "+host+"\r\nContent-Type: application/json\r\nContent-Length: 6291456\r\n\r\n"),
			bytes.Repeat([]byte(" "), 1<<20)...)},
		{name: "silent connection"},
	}
}

func (r *httpResult) slowDone(kind string, heldOpen bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.slow[kind]
	if t == nil {
		t = &slowTally{}
		r.slow[kind] = t
	}
	t.clients++
	if heldOpen {
		t.heldOpen++
	}
}

// slowClient plays one slow client for up to hold and reports whether the
// server still held the connection open at the end.
func slowClient(ctx context.Context, addr string, k slowKind, hold time.Duration, res *httpResult) bool {
	conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	end := time.Now().Add(hold)
	conn.SetWriteDeadline(end)
	if _, err := conn.Write(k.start); err != nil {
		return false
	}
	br := bufio.NewReader(conn)
	if k.answered {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			res.record(httpCase{name: k.name}, nil)
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		res.record(httpCase{name: k.name}, []answer{{status: resp.StatusCode, header: resp.Header, body: body}})
	}
	for i := 0; time.Now().Before(end); i++ {
		if ctx.Err() != nil {
			return false
		}
		if i < len(k.drip) {
			if _, err := conn.Write(k.drip[i : i+1]); err != nil {
				return false
			}
		}
		// A closed connection reads EOF at once; an open one times out.
		conn.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := br.ReadByte(); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		} else if err == nil {
			return false // the server answered (an error) and will close
		}
	}
	return true
}

// smuggled returns the players of smuggled requests found in events.
func smuggledUsers(users map[string]bool) []string {
	var out []string
	for u := range users {
		if strings.HasPrefix(u, smugglePrefix) {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return out
}
