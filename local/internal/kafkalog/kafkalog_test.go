package kafkalog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kfake numbers its levels as kgo does; level relies on it.
func TestLevelsMatch(t *testing.T) {
	pairs := [][2]int8{
		{int8(kfake.LogLevelNone), int8(kgo.LogLevelNone)}, {int8(kfake.LogLevelError), int8(kgo.LogLevelError)},
		{int8(kfake.LogLevelWarn), int8(kgo.LogLevelWarn)}, {int8(kfake.LogLevelInfo), int8(kgo.LogLevelInfo)},
		{int8(kfake.LogLevelDebug), int8(kgo.LogLevelDebug)},
	}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("kfake level %d is kgo level %d", p[0], p[1])
		}
	}
}

func TestAdapters(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := Client(l)
	if c.Level() != kgo.LogLevelInfo {
		t.Errorf("client level at slog DEBUG = %v, want info", c.Level())
	}
	c.Log(kgo.LogLevelInfo, "joined", "group", "g")
	c.Log(kgo.LogLevelDebug, "hidden")
	Broker(l).Logf(kfake.LogLevelWarn, "slow %s", "request")
	out := buf.String()
	for _, want := range []string{`level=DEBUG msg=joined component=kgo group=g`, `level=WARN msg="slow request" component=kfake`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("kgo debug reached slog DEBUG:\n%s", out)
	}
	if Client(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError + 1}))).Level() != kgo.LogLevelNone {
		t.Error("client logs although slog is off")
	}
}
