package event_test

import (
	"encoding/json"
	"testing"

	"github.com/questlog/questlog/internal/event"
)

// BenchmarkDecode is the jobs' per-record decode of a typical event (a
// browser's headers included).
func BenchmarkDecode(b *testing.B) {
	e := sample()
	e.Headers = map[string]string{
		"Accept":          "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8",
		"Accept-Encoding": "gzip, deflate", "Accept-Language": "en-US,en;q=0.9", "Cache-Control": "max-age=0",
		"User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/65.0.3325.181 Safari/537.36",
	}
	data, _ := json.Marshal(e)
	var d event.Decoder
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := d.DecodeOwned(data); err != nil {
			b.Fatal(err)
		}
	}
}
