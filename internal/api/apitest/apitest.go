// Package apitest drives API route handlers the way Lambda does: an API
// Gateway HTTP API (payload 2.0) event through aws-lambda-go-api-proxy.
package apitest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Request is the part of an HTTP request the tests vary.
type Request struct {
	Method, Path, Query string
	Headers             map[string]string // lower-case names, as API Gateway sends them
	Cookies             []string
	Body                string
}

// Invoke runs h on req and returns the proxy response.
func Invoke(t testing.TB, h http.Handler, req Request) events.APIGatewayV2HTTPResponse {
	t.Helper()
	if req.Method == "" {
		req.Method = "GET"
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: req.Path, RawQueryString: req.Query,
		Headers: req.Headers, Cookies: req.Cookies, Body: req.Body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "localhost:3000",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: req.Method, Path: req.Path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7", UserAgent: req.Headers["user-agent"],
			},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := httpadapter.NewV2(h).ProxyWithContext(ctx, ev)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	return resp
}
