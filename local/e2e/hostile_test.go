package e2e_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/questlog/questlog/local/apigw"
	"github.com/questlog/questlog/local/emulator"
)

// echoAPI starts the emulator's API Gateway in front of the echo function.
func echoAPI(t *testing.T, cfg emulator.Config) *emulator.Emulator {
	t.Helper()
	cfg.ProjectDir, _ = filepath.Abs("testdata/echo")
	return start(t, cfg, emulator.Serve{API: true})
}

// rawExchange writes raw bytes to the API over TCP and reads one response.
func rawExchange(t *testing.T, addr, raw string) (*http.Response, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	go io.WriteString(conn, raw) // the server may answer before it has read it all
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%.60q: no HTTP response: %v", raw, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// Every answer of the emulated API is JSON {"message": …}, as API Gateway's
// are, including the errors net/http writes itself, in plain text, for
// requests it cannot parse (before any handler runs).
func TestEveryAPIErrorIsJSON(t *testing.T) {
	e := echoAPI(t, config(t))
	addr := strings.TrimPrefix(e.APIURL, "http://")
	for _, tc := range []struct {
		name, raw string
		status    int
	}{
		{"malformed header line", "GET /items/1 HTTP/1.1\r\nHost: a\r\nNo colon here\r\n\r\n", 400},
		{"no Host", "GET /items/1 HTTP/1.1\r\n\r\n", 400},
		{"two Hosts", "GET /items/1 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"invalid method", "G(T /items/1 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"a TLS handshake", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 and so on\r\n\r\n", 400},
		{"headers too large", "GET /items/1 HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", 1200<<10) + "\r\n\r\n", 431},
		{"unknown transfer coding", "POST /items/1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"HTTP/3.0", "GET /items/1 HTTP/3.0\r\nHost: a\r\n\r\n", 505},
		{"unknown expectation", "POST /items/1 HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417},
		{"body over 10 MB", "POST /items/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 20000000\r\n\r\n", 413},
	} {
		resp, body := rawExchange(t, addr, tc.raw)
		var msg struct{ Message string }
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" ||
			json.Unmarshal([]byte(body), &msg) != nil || msg.Message == "" {
			t.Errorf("%s: %d %q %q, want %d with a JSON {\"message\": …}", tc.name, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status)
		}
	}
	// The API still answers after all that.
	if r := request(t, "GET", e.APIURL+"/items/1", ""); r.status != 200 {
		t.Errorf("GET /items/1 after the malformed requests = %d %s", r.status, r.body)
	}
}

// closedWithin reads from conn until the server closes it, and reports
// whether it did within d (false: the read deadline passed first).
func closedWithin(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var netErr net.Error
	return !(errors.As(err, &netErr) && netErr.Timeout())
}

// Slow and stalled clients cannot hold the emulated API: a request must be
// read within BodyTimeout (headers within HeaderTimeout), a keep-alive
// connection idle for IdleTimeout is closed, and request bodies held in
// memory at once stay within BufferedBodyBytes whatever the clients do.
// (Before: 200 slow-body and 200 idle connections held for 75 s and more,
// and 50 stalled 6 MB bodies grew the emulator by 500 MB.)
func TestSlowAndStalledClientsAreCutOff(t *testing.T) {
	cfg := config(t)
	cfg.APILimits = apigw.Limits{HeaderTimeout: time.Second, BodyTimeout: 2 * time.Second, IdleTimeout: 2 * time.Second, BufferedBodyBytes: 16 << 20}
	e := echoAPI(t, cfg)
	addr := strings.TrimPrefix(e.APIURL, "http://")
	const perKind = 30
	// Generous: the point is that they are closed at all.
	const within = 20 * time.Second

	dial := func() net.Conn {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	var wg sync.WaitGroup
	var held atomic.Int64
	watch := func(kind string, conn net.Conn) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !closedWithin(conn, within) {
				held.Add(1)
				t.Logf("a %s connection is still open after %s", kind, within)
			}
		}()
	}
	for range perKind {
		stalledHeaders := dial()
		io.WriteString(stalledHeaders, "GET /items/1 HTTP/1.1\r\nHost: a\r\nX-Slow: ")
		watch("stalled-headers", stalledHeaders)

		slowBody := dial()
		io.WriteString(slowBody, "POST /items/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nonly this")
		watch("slow-body", slowBody)

		idle := dial()
		io.WriteString(idle, "GET /items/1 HTTP/1.1\r\nHost: a\r\n\r\n")
		if resp, err := http.ReadResponse(bufio.NewReader(idle), nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("keep-alive request: %v %v", resp, err)
		}
		watch("idle keep-alive", idle)
	}

	// Stalled bodies of almost 6 MB each: the emulator's heap must not
	// hold them all.
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	base, peak := stats.HeapInuse, stats.HeapInuse
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var s runtime.MemStats
			runtime.ReadMemStats(&s)
			peak = max(peak, s.HeapInuse)
		}
	}()
	const size = 6_000_000
	body := make([]byte, size-1000)
	for range perKind {
		conn := dial()
		watch("stalled 6 MB body", conn)
		go func() {
			conn.SetWriteDeadline(time.Now().Add(within))
			fmt.Fprintf(conn, "POST /items/1 HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", size)
			conn.Write(body) // and never the last 1000 bytes
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	if n := held.Load(); n > 0 {
		t.Errorf("%d of %d slow, stalled or idle connections were still open after %s", n, 4*perKind, within)
	}
	if grew := int64(peak) - int64(base); grew > 100<<20 {
		t.Errorf("the heap grew by %d MB holding %d stalled 6 MB bodies (limit %d MB)", grew>>20, perKind, cfg.APILimits.BufferedBodyBytes>>20)
	} else {
		t.Logf("heap growth with %d stalled 6 MB bodies: %d MB", perKind, grew>>20)
	}
	// The API serves normal requests after the attack.
	if r := request(t, "POST", e.APIURL+"/items/1", strings.Repeat("x", 1<<20)); r.status != 200 {
		t.Errorf("a 1 MB POST after the attack = %d %.200s", r.status, r.body)
	}
}

// A request hidden after a body whose framings disagree (Content-Length
// and chunked Transfer-Encoding) never runs: the connection is closed
// after the first answer, as RFC 9112 (6.1) requires. (Before, net/http
// kept it open and the hidden request ran: request smuggling.)
func TestSmuggledRequestNeverRuns(t *testing.T) {
	e := echoAPI(t, config(t))
	addr := strings.TrimPrefix(e.APIURL, "http://")
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	io.WriteString(conn, "POST /items/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"+
		"GET /items/smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
	r := bufio.NewReader(conn)
	first, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("no answer to the first request: %v", err)
	}
	io.Copy(io.Discard, first.Body)
	if !first.Close {
		t.Errorf("the first answer keeps the connection open: %v", first.Header)
	}
	if second, err := http.ReadResponse(r, nil); err == nil {
		body, _ := io.ReadAll(second.Body)
		t.Fatalf("the hidden request ran: %d %s", second.StatusCode, body)
	}
}

// Clients that declare large bodies and send nothing hold none of the
// memory budget for bodies: a small POST beside them is answered at once,
// not after they time out. (Before, the budget was reserved by the
// declared Content-Length, so eleven stalled 6 MB declarations held every
// other POST for 29 s.)
func TestDeclaredButUnsentBodiesHoldNoMemory(t *testing.T) {
	cfg := config(t)
	cfg.APILimits = apigw.Limits{BodyTimeout: time.Minute, BufferedBodyBytes: 16 << 20}
	e := echoAPI(t, cfg)
	addr := strings.TrimPrefix(e.APIURL, "http://")
	var stalled []net.Conn
	for range 20 { // 20 × 6 MB declared: far beyond the 16 MB budget
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "POST /items/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 6000000\r\n\r\n")
		stalled = append(stalled, conn)
	}
	time.Sleep(200 * time.Millisecond) // let the server start reading them
	if r := request(t, "POST", e.APIURL+"/items/1", `{"item_type":"shield"}`); r.status != 200 {
		t.Fatalf("a small POST beside stalled bodies = %d %s", r.status, r.body)
	}
	// Answered while the stalled clients still hold their connections,
	// well before the body timeout could have freed anything.
	for _, conn := range stalled {
		if closedWithin(conn, 10*time.Millisecond) {
			t.Fatal("a stalled connection was closed before the small POST was answered")
		}
	}
}
