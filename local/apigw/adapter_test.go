package apigw_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/questlog/questlog/local/apigw"
	"github.com/questlog/questlog/local/invoke"
)

// adapterInvoker runs functions in-process the way questlog's functions run
// on Lambda: the payload is decoded into the events type, handed to
// aws-lambda-go-api-proxy's adapter around a net/http handler, and the
// adapter's response is encoded as the result payload. It proves that the
// events the gateway builds are what the adapter expects and that what the
// adapter returns maps back.
type adapterInvoker struct {
	v2 *httpadapter.HandlerAdapterV2
	v1 *httpadapter.HandlerAdapter
}

func (a adapterInvoker) Invoke(ctx context.Context, req invoke.Request) (*invoke.Result, error) {
	var (
		out any
		err error
	)
	if req.Function == "V1Function" {
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(req.Payload, &ev); err != nil {
			return nil, fmt.Errorf("decode 1.0 event: %w", err)
		}
		out, err = a.v1.ProxyWithContext(ctx, ev)
	} else {
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(req.Payload, &ev); err != nil {
			return nil, fmt.Errorf("decode 2.0 event: %w", err)
		}
		out, err = a.v2.ProxyWithContext(ctx, ev)
	}
	if err != nil {
		// aws-lambda-go would post the handler's error to /error.
		msg, _ := json.Marshal(map[string]string{"errorType": "errorString", "errorMessage": err.Error()})
		return &invoke.Result{Payload: msg, Error: &invoke.FunctionError{Type: "errorString", Message: err.Error()}}, nil
	}
	payload, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &invoke.Result{RequestID: "in-process", Payload: payload}, nil
}

// seen is what the net/http handler observed, echoed back as JSON.
type seen struct {
	Method     string              `json:"method"`
	Host       string              `json:"host"`
	RemoteAddr string              `json:"remoteAddr"`
	Path       string              `json:"path"`
	EscPath    string              `json:"escapedPath"`
	RawQuery   string              `json:"rawQuery"`
	Query      map[string][]string `json:"query"`
	Username   string              `json:"username"`
	Proxy      string              `json:"proxy"`
	Multi      []string            `json:"multi"`
	UserAgent  string              `json:"userAgent"`
	CType      string              `json:"contentType"`
	Cookies    []string            `json:"cookies"`
	Body       []byte              `json:"body"`
}

func appHandler() http.Handler {
	mux := http.NewServeMux()
	echo := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seen{
			Method: r.Method, Host: r.Host, RemoteAddr: r.RemoteAddr, Path: r.URL.Path,
			EscPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Query: r.URL.Query(),
			Username: r.PathValue("username"), Proxy: r.PathValue("rest"),
			Multi: r.Header.Values("X-Multi"), UserAgent: r.UserAgent(), CType: r.Header.Get("Content-Type"),
			Body: body,
		}
		for _, c := range r.Cookies() {
			s.Cookies = append(s.Cookies, c.Name+"="+c.Value)
		}
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "xyz", Path: "/", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
		w.Header().Set("X-App", "questlog")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(s)
	}
	mux.HandleFunc("POST /purchase_a_sword/{username}", echo)
	mux.HandleFunc("GET /files/{rest...}", echo)
	mux.HandleFunc("GET /legacy/{username}", echo)
	mux.HandleFunc("GET /binary", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte{0x00, 0xff, 0xfe, 0x80, 'x'})
	})
	mux.HandleFunc("GET /silent", func(http.ResponseWriter, *http.Request) {})
	return mux
}

func adapterGateway(t *testing.T) *httptest.Server {
	t.Helper()
	app := appHandler()
	inv := adapterInvoker{v2: httpadapter.NewV2(app), v1: httpadapter.New(app)}
	h := newGateway(t, []apigw.Route{
		{Method: "POST", Path: "/purchase_a_sword/{username}", Function: "SwordFunction"},
		{Method: "GET", Path: "/files/{proxy+}", Function: "FilesFunction"},
		{Method: "GET", Path: "/legacy/{username}", Function: "V1Function", PayloadFormatVersion: "1.0"},
		{Function: "DefaultFunction"},
	}, inv)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestAdapterRoundTrip(t *testing.T) {
	srv := adapterGateway(t)
	body := []byte("gold=100&note=caf\xc3\xa9 \x00\xff binary tail")
	req, err := http.NewRequest("POST", srv.URL+"/purchase_a_sword/sir%20lancelot?count=2&count=3&q=a%2Bb", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "questlog-client/2")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.AddCookie(&http.Cookie{Name: "session", Value: "abc"})
	req.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw := readAll(t, resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status = %d, body %s", resp.StatusCode, raw)
	}
	var got seen
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	checks := []struct{ name, got, want string }{
		{"method", got.Method, "POST"},
		{"host (from requestContext.domainName)", got.Host, host},
		{"remoteAddr (sourceIp, no port)", got.RemoteAddr, "127.0.0.1"},
		{"path", got.Path, "/purchase_a_sword/sir lancelot"},
		{"escaped path", got.EscPath, "/purchase_a_sword/sir%20lancelot"},
		{"path value", got.Username, "sir lancelot"},
		{"raw query", got.RawQuery, "count=2&count=3&q=a%2Bb"},
		{"query count", strings.Join(got.Query["count"], ","), "2,3"},
		{"query q", strings.Join(got.Query["q"], ","), "a+b"},
		{"multi header", strings.Join(got.Multi, "|"), "one|two"},
		{"user agent", got.UserAgent, "questlog-client/2"},
		{"content type", got.CType, "application/x-www-form-urlencoded"},
		{"cookies", strings.Join(got.Cookies, "|"), "session=abc|lang=en"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !bytes.Equal(got.Body, body) {
		t.Errorf("body = %q, want %q (base64 round trip)", got.Body, body)
	}
	// Response side: status, headers, one Set-Cookie per cookie.
	if resp.Header.Get("X-App") != "questlog" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", resp.Header)
	}
	if c := resp.Header.Values("Set-Cookie"); !slices.Equal(c, []string{"sid=xyz; Path=/; HttpOnly", "theme=dark"}) {
		t.Errorf("Set-Cookie = %q", c)
	}
	if resp.Header.Get("Apigw-Requestid") == "" {
		t.Error("no Apigw-Requestid")
	}
}

func TestAdapterGreedyAndBinaryAndDefault(t *testing.T) {
	srv := adapterGateway(t)
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp, readAll(t, resp.Body)
	}

	resp, raw := get("/files/a/b%20c/d.txt")
	var got seen
	if err := json.Unmarshal(raw, &got); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("greedy: %d %s %v", resp.StatusCode, raw, err)
	}
	if got.Proxy != "a/b c/d.txt" || got.Path != "/files/a/b c/d.txt" {
		t.Errorf("greedy: rest %q path %q", got.Proxy, got.Path)
	}

	// Binary response: the adapter base64-encodes it, the gateway decodes it.
	resp, raw = get("/binary")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(raw, []byte{0x00, 0xff, 0xfe, 0x80, 'x'}) ||
		resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("binary: %d %q %q", resp.StatusCode, raw, resp.Header.Get("Content-Type"))
	}

	// The $default route reaches the app's own 404.
	resp, raw = get("/not/routed")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(raw), "404 page not found") {
		t.Errorf("default: %d %q", resp.StatusCode, raw)
	}

	// A handler that writes nothing makes the adapter fail, so the
	// function errors and the gateway answers 500.
	resp, raw = get("/silent")
	if resp.StatusCode != http.StatusInternalServerError || string(raw) != `{"message":"Internal Server Error"}` {
		t.Errorf("silent: %d %q", resp.StatusCode, raw)
	}
}

func TestAdapterRoundTripV1(t *testing.T) {
	srv := adapterGateway(t)
	req, _ := http.NewRequest("GET", srv.URL+"/legacy/ga%20lahad?x=1&x=2", nil)
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw := readAll(t, resp.Body)
	var got seen
	if err := json.Unmarshal(raw, &got); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("1.0: %d %s %v", resp.StatusCode, raw, err)
	}
	if got.Username != "ga lahad" || strings.Join(got.Query["x"], ",") != "1,2" || strings.Join(got.Multi, "|") != "one|two" ||
		got.RemoteAddr != "127.0.0.1" {
		t.Errorf("1.0 request seen as %+v", got)
	}
	// The 1.0 adapter leaves Set-Cookie in multiValueHeaders.
	if c := resp.Header.Values("Set-Cookie"); len(c) != 2 {
		t.Errorf("1.0 Set-Cookie = %q", c)
	}
}
