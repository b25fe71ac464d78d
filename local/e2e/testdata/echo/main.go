// Command echo is a test function for the emulator's API Gateway: it
// answers with the request as it received it, and misbehaves on demand.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (any, error) {
	switch {
	case strings.HasPrefix(req.RawPath, "/fail"):
		return nil, errors.New("asked to fail")
	case strings.HasPrefix(req.RawPath, "/crash"):
		os.Exit(3)
	case strings.HasPrefix(req.RawPath, "/sleep"):
		<-ctx.Done()
		time.Sleep(time.Hour) // the platform must kill us
	case strings.HasPrefix(req.RawPath, "/malformed"):
		return map[string]any{"statusCode": "two hundred"}, nil
	case strings.HasPrefix(req.RawPath, "/big"):
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: strings.Repeat("x", 7<<20)}, nil
	case strings.HasPrefix(req.RawPath, "/binary"):
		return events.APIGatewayV2HTTPResponse{StatusCode: 201, Body: "AAEC/w==", IsBase64Encoded: true,
			Headers: map[string]string{"Content-Type": "application/octet-stream"}, Cookies: []string{"a=1", "b=2; Path=/"}}, nil
	}
	body, _ := json.Marshal(req)
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: string(body), Headers: map[string]string{"Content-Type": "application/json", "X-Echo": "yes"}}, nil
}

func main() { lambda.Start(handle) }
