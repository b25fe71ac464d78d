package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/api/apitest"
	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/kafkapub"
	"github.com/questlog/questlog/internal/kafkatest"
	"github.com/twmb/franz-go/pkg/kfake"
)

func invoke(t *testing.T, h http.Handler, method, path string, headers map[string]string, cookies []string, body string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	return apitest.Invoke(t, h, apitest.Request{Method: method, Path: path, Headers: headers, Cookies: cookies, Body: body})
}

func publisher(t testing.TB, addr string, timeout time.Duration) *kafkapub.Publisher {
	pub, err := kafkapub.New(kafkapub.Config{Brokers: []string{addr}, Topic: kafkatest.Topic, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	return pub
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestRoutesPublishTheSeedEvents(t *testing.T) {
	addr := kafkatest.Start(t, 3)
	pub := publisher(t, addr, 5*time.Second)
	headers := map[string]string{
		"user-agent": "curl/8.5.0", "accept": "*/*", "accept-language": "en-US,en;q=0.9",
		"authorization": "Bearer secret-token", "x-api-key": "k-123", "x-auth-token": "t", "connection": "keep-alive",
	}
	for _, tc := range []struct {
		route      api.Route
		path, text string
		want       event.Event
	}{
		{api.Default, "/", "This is the default response!\n", event.Event{EventType: "default"}},
		{api.PurchaseSword, "/purchase_a_sword/divya", "Hello divya!! You purchased a Sword successfully!\n",
			event.Event{EventType: "purchase_sword", UserName: "divya", ItemType: "sword", Quantity: 1}},
		{api.JoinGuild, "/join_a_guild/divya/masadons", "Hey divya!! You joined the guild masadons successfully!\n",
			event.Event{EventType: "join_a_guild", UserName: "divya", GuildName: "masadons"}},
	} {
		resp := invoke(t, api.Handler(tc.route, pub, quiet), "GET", tc.path, headers, []string{"session=abc"}, "")
		if resp.StatusCode != 200 || resp.Body != tc.text {
			t.Errorf("GET %s = %d %q, want 200 %q", tc.path, resp.StatusCode, resp.Body, tc.text)
		}
		if resp.Headers["X-Event-Id"] == "" {
			t.Errorf("GET %s: no X-Event-Id header", tc.path)
		}
	}

	msgs := kafkatest.ReadAll(t, addr, 3)
	if len(msgs) != 3 {
		t.Fatalf("topic holds %d records, want 3", len(msgs))
	}
	byType := map[string]event.Event{}
	for _, m := range msgs {
		raw := string(m.Value)
		for _, secret := range []string{"secret-token", "k-123", "session=abc", "Authorization", "Cookie", "X-Auth-Token", "Connection"} {
			if strings.Contains(raw, secret) {
				t.Errorf("record leaks %q: %s", secret, raw)
			}
		}
		e, err := event.Decode(m.Value)
		if err != nil {
			t.Fatalf("record is not a valid event: %v: %s", err, raw)
		}
		if string(m.Key) != e.UserName {
			t.Errorf("record key %q, want the user %q", m.Key, e.UserName)
		}
		if e.RemoteIP != "203.0.113.7" || e.UserAgent != "curl/8.5.0" || e.Host != "localhost:3000" {
			t.Errorf("client fields: ip %q ua %q host %q", e.RemoteIP, e.UserAgent, e.Host)
		}
		// The adapter splits comma lists; the event keeps HTTP's canonical join.
		if e.Headers["Accept-Language"] != "en-US, en;q=0.9" {
			t.Errorf("headers = %v", e.Headers)
		}
		if time.Since(e.EventTime.Time()) > time.Minute || len(e.EventID) != 36 || e.EventID[14] != '7' {
			t.Errorf("event_id %q (want UUIDv7), event_time %s", e.EventID, e.EventTime)
		}
		byType[e.EventType] = e
	}
	if g := byType["join_a_guild"]; g.UserName != "divya" || g.GuildName != "masadons" {
		t.Errorf("join event = %+v", g)
	}
	if s := byType["purchase_sword"]; s.ItemType != "sword" || s.Quantity != 1 {
		t.Errorf("sword event = %+v", s)
	}
}

func TestBadRequestsPublishNothing(t *testing.T) {
	addr := kafkatest.Start(t, 1)
	pub := publisher(t, addr, 5*time.Second)
	for _, tc := range []struct {
		route        api.Route
		method, path string
		body         string
		status       int
		reason       string
	}{
		{api.PurchaseSword, "GET", "/purchase_a_sword/" + strings.Repeat("a", 65), "", 400, "must be 1-64 characters"},
		{api.PurchaseSword, "GET", "/purchase_a_sword/bad%20name", "", 400, `username "bad name"`},
		{api.PurchaseSword, "GET", "/purchase_a_sword/%2E%2E%2Fetc", "", 400, "username"},
		{api.JoinGuild, "GET", "/join_a_guild/divya/guild$", "", 400, "guildname"},
		{api.Default, "GET", "/", strings.Repeat("x", api.MaxBodyBytes+1), 413, "request body exceeds"},
		{api.Default, "GET", "/nope", "", 404, "Not Found"},
		{api.Default, "POST", "/", "", 404, "Not Found"}, // as API Gateway: no route for POST /
	} {
		resp := invoke(t, api.Handler(tc.route, pub, quiet), tc.method, tc.path, nil, nil, tc.body)
		var body struct{ Message string }
		if resp.StatusCode != tc.status || json.Unmarshal([]byte(resp.Body), &body) != nil || !strings.Contains(body.Message, tc.reason) {
			t.Errorf("%s %s = %d %s, want %d with a JSON reason containing %q", tc.method, tc.path, resp.StatusCode, resp.Body, tc.status, tc.reason)
		}
	}
	if msgs := kafkatest.ReadAll(t, addr, 1); len(msgs) != 0 {
		t.Fatalf("bad requests published %d records", len(msgs))
	}
}

func TestKafkaDownIs503WithinTheTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close() // nothing listens here any more
	pub := publisher(t, dead, 2*time.Second)
	h := api.Handler(api.PurchaseSword, pub, quiet)
	rec := httptest.NewRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/purchase_a_sword/divya", nil)
	h.ServeHTTP(rec, req)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "event not recorded") || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("Kafka down: %d %s", rec.Code, rec.Body)
	}
	if ctx.Err() != nil {
		t.Fatal("the answer came after the function's deadline")
	}
}

func TestRecordedHeaders(t *testing.T) {
	h := http.Header{}
	for _, name := range []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-Amz-Security-Token",
		"Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Te", "X-Csrf-Token", "X-Client-Secret", "X-Session-Id"} {
		h.Set(name, "v")
	}
	h.Add("Accept", "a")
	h.Add("Accept", "b")
	h.Set("User-Agent", "ua")
	got := api.DefaultHeaders.Record(h)
	if len(got) != 2 || got["Accept"] != "a, b" || got["User-Agent"] != "ua" {
		t.Fatalf("RecordedHeaders = %v, want only Accept and User-Agent", got)
	}
}

// "." and "..", raw or percent-encoded in any case, are not names, on any
// route and in any path parameter: a 400 naming the parameter, nothing
// published. (Before, %2E%2E published user "..", and a raw ".." was
// cleaned away by net/http's ServeMux into a 404.)
func TestDotNamesAreRejectedOnEveryRoute(t *testing.T) {
	addr := kafkatest.Start(t, 1)
	pub := publisher(t, addr, 5*time.Second)
	for _, dots := range []string{".", "..", "%2E", "%2e", "%2E%2E", "%2e%2E", ".%2e"} {
		for _, tc := range []struct {
			route        api.Route
			method, path string
			field        string
		}{
			{api.PurchaseSword, "GET", "/purchase_a_sword/" + dots, "username"},
			{api.JoinGuild, "GET", "/join_a_guild/" + dots + "/masadons", "username"},
			{api.JoinGuild, "GET", "/join_a_guild/divya/" + dots, "guildname"},
			{api.PurchaseItem, "GET", "/purchase/" + dots + "/sword", "username"},
			{api.PurchaseItem, "GET", "/purchase/divya/" + dots, "item_type"},
			{api.PurchaseItemJSON, "POST", "/purchase/" + dots, "username"},
		} {
			resp := invoke(t, api.Handler(tc.route, pub, quiet), tc.method, tc.path, nil, nil, `{"item_type":"sword"}`)
			var body struct{ Message, Field string }
			if resp.StatusCode != 400 || json.Unmarshal([]byte(resp.Body), &body) != nil || body.Field != tc.field {
				t.Errorf("%s %s = %d %s, want 400 naming %s", tc.method, tc.path, resp.StatusCode, resp.Body, tc.field)
			}
		}
	}
	if msgs := kafkatest.ReadAll(t, addr, 1); len(msgs) != 0 {
		t.Fatalf("dot names published %d events", len(msgs))
	}
}

// The credentials that got past the old deny-list of header names reach
// neither Kafka (nor, so, Parquet): headers are recorded through an
// allow-list, and credential-looking values (auth schemes, JWTs, secrets
// in URLs) are scrubbed from whatever is recorded.
func TestCredentialsNeverRecorded(t *testing.T) {
	addr := kafkatest.Start(t, 1)
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtMTMifQ.c2VjcmV0LTEzc2ln"
	headers := map[string]string{
		// The list: each reached Kafka and Parquet before.
		"x-api_key": "secret-01", "api_key": "secret-02", "x-access-key": "secret-03", "x-private-key": "secret-04",
		"x-pwd": "secret-05", "x-pass": "secret-06", "x-passphrase": "secret-07", "x-jwt": jwt, "x-sid": "secret-09",
		"x-custom": "Bearer secret-10",
		"referer":  "https://game.example/shop?page=2&token=secret-11#top",
		// Recorded headers carrying credential-looking values.
		"user-agent":      "curl/8.5.0 " + jwt,
		"origin":          "https://player:secret-14@game.example",
		"accept-language": "Basic c2VjcmV0LTE1",
		"accept":          "*/*",
		"x-forwarded-for": "198.51.100.7",
	}
	resp := invoke(t, api.Handler(api.PurchaseSword, publisher(t, addr, 5*time.Second), quiet), "GET", "/purchase_a_sword/divya", headers, nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET = %d %s", resp.StatusCode, resp.Body)
	}
	msgs := kafkatest.ReadAll(t, addr, 1)
	if len(msgs) != 1 {
		t.Fatalf("topic holds %d records, want 1", len(msgs))
	}
	raw := string(msgs[0].Value)
	for _, secret := range []string{"secret-", "c2VjcmV0", "eyJ", "Api_key", "X-Jwt", "X-Sid", "X-Custom", "X-Pass"} {
		if strings.Contains(raw, secret) {
			t.Errorf("the record holds %q: %s", secret, raw)
		}
	}
	e, err := event.Decode(msgs[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	// What is not a credential is kept.
	if e.Headers["Accept"] != "*/*" || e.Headers["X-Forwarded-For"] != "198.51.100.7" ||
		!strings.HasPrefix(e.Headers["Referer"], "https://game.example/shop?page=2&token=") || !strings.HasPrefix(e.UserAgent, "curl/8.5.0 ") ||
		!strings.HasSuffix(e.Headers["Origin"], "@game.example") {
		t.Errorf("recorded headers %v, user agent %q", e.Headers, e.UserAgent)
	}
}

func TestRecordedHeadersConfiguration(t *testing.T) {
	h, err := api.ParseRecordedHeaders(" accept , x-request-id,User-Agent")
	if err != nil {
		t.Fatal(err)
	}
	got := h.Record(http.Header{"Accept": {"a"}, "X-Request-Id": {"r-1"}, "Accept-Language": {"en"}, "X-Api-Key": {"k"}})
	if len(got) != 2 || got["Accept"] != "a" || got["X-Request-Id"] != "r-1" {
		t.Errorf("Record = %v, want Accept and X-Request-Id only", got)
	}
	for _, bad := range []string{"Authorization", "accept,cookie", "X-Auth-Token", "bad header", ""} {
		if _, err := api.ParseRecordedHeaders(bad); err == nil {
			t.Errorf("ParseRecordedHeaders(%q) accepted a credential or malformed list", bad)
		}
	}
}

// An event too large for a Kafka record can never be published, so the
// answer is a 413 with a JSON reason, never a 503 that invites a retry:
// whether the function sees it first (over MaxEventBytes) or the broker
// refuses it (a topic with a smaller max.message.bytes).
func TestOversizedEventIs413(t *testing.T) {
	big := strings.Repeat("x", 600<<10)
	small, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, kafkatest.Topic), kfake.BrokerConfigs(map[string]string{"message.max.bytes": "4000"}))
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	for _, tc := range []struct {
		name, addr, header string
	}{
		{"over MaxEventBytes", kafkatest.Start(t, 1), big},
		{"over the broker's max.message.bytes", small.ListenAddrs()[0], strings.Repeat("y", 5000)},
	} {
		h := api.Handler(api.PurchaseSword, publisher(t, tc.addr, 5*time.Second), quiet)
		resp := invoke(t, h, "GET", "/purchase_a_sword/divya", map[string]string{"user-agent": tc.header, "referer": tc.header}, nil, "")
		var body struct{ Message string }
		if resp.StatusCode != 413 || json.Unmarshal([]byte(resp.Body), &body) != nil || !strings.Contains(body.Message, "too large") || resp.Headers["Retry-After"] != "" {
			t.Errorf("%s: %d %v %.200s, want 413 with a JSON reason and no Retry-After", tc.name, resp.StatusCode, resp.Headers, resp.Body)
		}
		// A normal request still goes through.
		if resp := invoke(t, h, "GET", "/purchase_a_sword/divya", nil, nil, ""); resp.StatusCode != 200 {
			t.Errorf("%s: a normal request after it = %d %s", tc.name, resp.StatusCode, resp.Body)
		}
	}
}
