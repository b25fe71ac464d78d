package lambda

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"
)

// newRequestID returns a random (version 4) UUID, like Lambda's request ids.
func newRequestID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// randomHex returns n random bytes as hex, for log stream names.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// traceID returns the caller's X-Ray trace header, or a new unsampled one as
// Lambda passes to every invocation when the caller sent none:
// Root=1-<epoch seconds, hex>-<96-bit id>;Parent=<64-bit id>;Sampled=0.
func traceID(fromCaller string) string {
	if fromCaller != "" {
		return fromCaller
	}
	var b [20]byte
	_, _ = rand.Read(b[:])
	return "Root=1-" + strconv.FormatInt(time.Now().Unix(), 16) + "-" + hex.EncodeToString(b[:12]) +
		";Parent=" + hex.EncodeToString(b[12:]) + ";Sampled=0"
}
