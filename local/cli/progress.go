package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progressOutput is where live progress goes: standard error when it is a
// terminal, else nowhere (a redirected log gets the final summary only,
// not a line per redraw).
func progressOutput() io.Writer {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return os.Stderr
	}
	return nil
}

// progressBar draws a one-line bar, redrawn in place; with a nil writer it
// draws nothing.
type progressBar struct {
	w    io.Writer
	last time.Time
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w} }

func (b *progressBar) update(done, total int64, note string) {
	if b.w == nil || time.Since(b.last) < 100*time.Millisecond && done < total {
		return
	}
	b.last = time.Now()
	const width = 30
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	n := int(frac * width)
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%%  %d/%d records  %s   ", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, done, total, note)
}

func (b *progressBar) done() {
	if b.w != nil {
		fmt.Fprintln(b.w)
	}
}
