package apigw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
)

// JSONErrors wraps the listener of the gateway's http.Server so that the
// errors net/http answers by itself, before any handler runs, reach the
// client as API Gateway's {"message": …} JSON rather than plain text: 400
// for a request it cannot parse, 431 for headers over the limit, 501 for
// an unknown transfer coding, 505 for an unsupported HTTP version, and 417
// for an unknown Expect. net/http has no hook for these; they are written
// straight to the connection, one Write each, in a fixed form that a
// response of the gateway (which always carries Apigw-Requestid) never
// has, so the connection rewrites exactly those writes.
func JSONErrors(l net.Listener) net.Listener { return jsonErrorListener{l} }

type jsonErrorListener struct{ net.Listener }

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return jsonErrorConn{c}, nil
}

type jsonErrorConn struct{ net.Conn }

func (c jsonErrorConn) Write(p []byte) (int, error) {
	out, ok := rewritePlainError(p)
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite lets net/http half-close after a 431, as it does on a TCP
// connection.
func (c jsonErrorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

var (
	// What net/http's server writes after the status line of its own
	// errors (server.go: errorHeaders), then the text.
	plainErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")
	headersEnd        = []byte("\r\n\r\n")
)

// rewritePlainError returns the JSON form of an error response net/http
// wrote by itself, or false for anything else.
func rewritePlainError(p []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !ok || len(rest) < 4 || rest[3] != ' ' {
		return nil, false
	}
	code, err := strconv.Atoi(string(rest[:3]))
	if err != nil || code < 400 {
		return nil, false
	}
	if statusLine, text, found := bytes.Cut(rest, plainErrorHeaders); found && !bytes.Contains(statusLine, []byte("\r\n")) {
		// The text repeats the status ("400 Bad Request: missing required
		// Host header"); the message keeps the reason without the code.
		message := string(bytes.TrimPrefix(text, rest[:4]))
		return jsonErrorResponse(code, message), true
	}
	// The 417 for an unknown Expect goes through a ResponseWriter but no
	// handler: a bare header block with no body and no Apigw-Requestid.
	header, body, found := bytes.Cut(p, headersEnd)
	if code == http.StatusExpectationFailed && found && len(body) == 0 &&
		!bytes.Contains(header, []byte("\r\n"+headerRequestID+":")) {
		return jsonErrorResponse(code, http.StatusText(code)), true
	}
	return nil, false
}

func jsonErrorResponse(code int, message string) []byte {
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{message})
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		code, http.StatusText(code), len(body), body)
}
