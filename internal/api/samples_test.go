package api_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/kafkatest"
)

// The sample payloads in events/ are what the route functions accept.
func TestSampleAPIGatewayEvents(t *testing.T) {
	addr := kafkatest.Start(t, 1)
	pub := publisher(t, addr, 5*time.Second)
	for file, route := range map[string]api.Route{
		"apigw-purchase-sword.json":     api.PurchaseSword,
		"apigw-join-guild.json":         api.JoinGuild,
		"apigw-purchase-item-post.json": api.PurchaseItemJSON,
	} {
		data, err := os.ReadFile("../../events/" + file)
		if err != nil {
			t.Fatal(err)
		}
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(data, &req); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		resp, err := httpadapter.NewV2(api.Handler(route, pub, quiet)).ProxyWithContext(context.Background(), req)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %d %s %v", file, resp.StatusCode, resp.Body, err)
		}
	}
	if n := len(kafkatest.ReadAll(t, addr, 1)); n != 3 {
		t.Errorf("published %d events, want 3", n)
	}
}
