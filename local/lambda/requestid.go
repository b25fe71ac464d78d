package lambda

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"
)

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
