package e2e_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
