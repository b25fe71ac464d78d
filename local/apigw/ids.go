package apigw

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// requestIDs hands out API-Gateway-like request ids ("LV7fzho-PHcEJPw="):
// 10 bytes in padded URL-safe base64. The first 8 bytes are a per-process
// random offset plus a counter, scrambled by multiplication with an odd
// constant (a bijection on uint64), so ids never repeat within a process yet
// do not look sequential; the last 2 bytes are random.
type requestIDs struct {
	counter atomic.Uint64
	offset  uint64
}

func newRequestIDs() *requestIDs {
	return &requestIDs{offset: rand.Uint64()}
}

func (g *requestIDs) next() string {
	var raw [10]byte
	n := (g.counter.Add(1) + g.offset) * 0x9E3779B97F4A7C15
	binary.BigEndian.PutUint64(raw[:8], n)
	binary.BigEndian.PutUint16(raw[8:], uint16(rand.Uint32()))
	var out [16]byte
	base64.URLEncoding.Encode(out[:], raw[:])
	return string(out[:])
}

// newTraceID returns an X-Ray trace header value as API Gateway adds it:
// "Root=1-<8 hex epoch seconds>-<24 hex random>".
func newTraceID(now time.Time) string {
	var buf [len("Root=1-") + 8 + 1 + 24]byte
	n := copy(buf[:], "Root=1-")
	var ts [4]byte
	binary.BigEndian.PutUint32(ts[:], uint32(now.Unix()))
	n += hex.Encode(buf[n:], ts[:])
	buf[n] = '-'
	n++
	var rnd [12]byte
	binary.LittleEndian.PutUint64(rnd[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(rnd[8:], rand.Uint32())
	hex.Encode(buf[n:], rnd[:])
	return string(buf[:])
}

// resourceID derives a stable 6-character id for a route, used as
// requestContext.resourceId in 1.0 events.
func resourceID(key string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	h := fnv.New64a()
	h.Write([]byte(key))
	v := h.Sum64()
	var out [6]byte
	for i := range out {
		out[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
	}
	return string(out[:])
}
