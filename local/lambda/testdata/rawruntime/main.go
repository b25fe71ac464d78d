// Command rawruntime is a minimal Runtime API client written without
// aws-lambda-go: over one keep-alive connection it polls GET /next and posts
// each event back unchanged as the response. BenchmarkInvokeOverhead runs it
// next to the aws-lambda-go echo to separate the emulator's cost from the
// library's.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

func main() {
	addr := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	br := bufio.NewReader(conn)
	bw := bufio.NewWriter(conn)
	for {
		fmt.Fprintf(bw, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		event, hdr, err := roundTrip(bw, br)
		if err != nil {
			fmt.Fprintln(os.Stderr, "next:", err)
			os.Exit(1)
		}
		id := hdr.Get("Lambda-Runtime-Aws-Request-Id")
		fmt.Fprintf(bw, "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			id, addr, len(event))
		bw.Write(event)
		if _, _, err := roundTrip(bw, br); err != nil {
			fmt.Fprintln(os.Stderr, "response:", err)
			os.Exit(1)
		}
	}
}

// roundTrip flushes the buffered request and reads the response.
func roundTrip(bw *bufio.Writer, br *bufio.Reader) ([]byte, http.Header, error) {
	if err := bw.Flush(); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return body, resp.Header, nil
}
