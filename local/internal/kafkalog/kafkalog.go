// Package kafkalog sends the logs of franz-go's client (kgo) and of the
// embedded broker (kfake) to slog. Both log routine traffic (requests,
// group joins, fetch sessions) at info, which goes to slog's DEBUG; their
// debug goes below it. Errors and warnings stay what they are.
package kafkalog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// traceLevel is below DEBUG: franz-go's own debug output.
const traceLevel = slog.LevelDebug - 4

// level maps franz-go's levels, which kgo and kfake number alike, to slog's.
func level(l kgo.LogLevel) slog.Level {
	switch l {
	case kgo.LogLevelError:
		return slog.LevelError
	case kgo.LogLevelWarn:
		return slog.LevelWarn
	case kgo.LogLevelInfo:
		return slog.LevelDebug
	}
	return traceLevel
}

// Client returns a kgo.Logger writing to l.
func Client(l *slog.Logger) kgo.Logger { return client{l.With("component", "kgo")} }

type client struct{ l *slog.Logger }

func (c client) Level() kgo.LogLevel {
	for _, lv := range []kgo.LogLevel{kgo.LogLevelDebug, kgo.LogLevelInfo, kgo.LogLevelWarn, kgo.LogLevelError} {
		if c.l.Enabled(context.Background(), level(lv)) {
			return lv
		}
	}
	return kgo.LogLevelNone
}

func (c client) Log(lv kgo.LogLevel, msg string, keyvals ...any) {
	c.l.Log(context.Background(), level(lv), msg, keyvals...)
}

// Broker returns a kfake.Logger writing to l.
func Broker(l *slog.Logger) kfake.Logger { return broker{l.With("component", "kfake")} }

type broker struct{ l *slog.Logger }

func (b broker) Logf(lv kfake.LogLevel, format string, args ...any) {
	ctx, sl := context.Background(), level(kgo.LogLevel(lv))
	if b.l.Enabled(ctx, sl) {
		b.l.Log(ctx, sl, fmt.Sprintf(format, args...))
	}
}
