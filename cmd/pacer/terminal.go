package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// terminal writes the command's output. On an interactive terminal live
// progress is a block of lines redrawn in place (carriage return and cursor
// up), each cut to the terminal's width so that the redraw stays in place;
// elsewhere (a pipe, a file, a test) it is a plain line per client every
// few seconds, so logs stay readable.
type terminal struct {
	w           io.Writer
	interactive bool
	width       int // columns of the terminal; 0: unknown

	mu    sync.Mutex
	drawn int // lines of the live block on screen
}

func newTerminal(w io.Writer, getenv func(string) string) *terminal {
	t := &terminal{w: w}
	if f, ok := w.(*os.File); ok && getenv("TERM") != "dumb" && term.IsTerminal(int(f.Fd())) {
		t.interactive = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			t.width = cols
		}
		if cols, err := strconv.Atoi(getenv("COLUMNS")); err == nil && cols > 0 && t.width == 0 {
			t.width = cols
		}
	}
	return t
}

// fit cuts line to the terminal's width, less one column, so that writing
// it never wraps onto a second row.
func (t *terminal) fit(line string) string {
	if t.width <= 1 || utf8.RuneCountInString(line) < t.width {
		return line
	}
	runes := []rune(line)
	return string(runes[:t.width-1])
}

// printf writes a line of ordinary output.
func (t *terminal) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, format, args...)
}

// interval is how often live progress is redrawn.
func (t *terminal) interval() time.Duration {
	if t.interactive {
		return 100 * time.Millisecond
	}
	return 2 * time.Second
}

// live redraws the progress block (interactive) or prints it (otherwise).
func (t *terminal) live(lines []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.interactive {
		for _, l := range lines {
			fmt.Fprintln(t.w, strings.TrimRight(l, " "))
		}
		return
	}
	var b strings.Builder
	if t.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", t.drawn)
	}
	for _, l := range lines {
		b.WriteString("\r\x1b[2K")
		b.WriteString(t.fit(l))
		b.WriteByte('\n')
	}
	t.drawn = len(lines)
	io.WriteString(t.w, b.String())
}

// endLive leaves the last drawn block on screen and starts ordinary output
// below it.
func (t *terminal) endLive() {
	t.mu.Lock()
	t.drawn = 0
	t.mu.Unlock()
}

// bar renders done out of total as a fixed-width bar.
func bar(done, total int64, width int) string {
	if total <= 0 {
		total = 1
	}
	n := int(done * int64(width) / total)
	n = max(0, min(n, width))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}
