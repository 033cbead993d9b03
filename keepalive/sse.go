package keepalive

import (
	"bytes"
	"io"
)

// NewSSEReader returns a reader that yields r's text/event-stream bytes
// without the lines that carry no event:
//
//   - comment lines (a line whose first byte is ':'), with their terminator;
//   - blank lines that would dispatch nothing, because no field line came
//     since the stream began or since the last blank line that dispatched.
//
// Every other byte passes unchanged and in order, so the events a conforming
// parser reads from the output are exactly those it reads from the input.
//
// The reader follows the line rules of the WHATWG HTML "Server-sent events"
// specification: CRLF, LF and a lone CR each end a line, and a CR that ends
// one underlying Read followed by an LF that starts the next is a single
// terminator. A blank line that follows a field line is that event's
// dispatch and always passes. A UTF-8 byte order mark at the very start of
// the stream passes and does not make the first line a field line.
//
// Two rare cases change a byte rather than only drop some, to keep the
// events exact. A blank line that dispatches and is ended by an LF, after a
// line ended by a lone CR (not CRLF) and dropped lines, is passed as a CR:
// the LF would join the CR before it into one CRLF terminator and lose the
// dispatch. And when the first line to pass begins with the byte 0xEF after
// dropped lines, a blank line (the last dropped terminator) passes before
// it, so that a byte order mark in that line is not moved to the start of
// the stream, the only place where a parser strips it; a blank line there
// dispatches nothing. (Should the caller's buffer hold a single byte, that
// line's first byte then comes with the next Read.) No comment line ever
// passes.
//
// Whether a line passes is decided by its first byte, so the reader never
// holds back a byte of a line it passes: each Read returns every passing
// byte that the underlying Read produced. It filters in place in the
// caller's buffer and allocates nothing per Read. When every byte of an
// underlying Read is dropped it reads again rather than return 0, nil, so a
// Read blocks while the stream carries only keep-alives. An error from r is
// returned after the passing bytes that came with it.
//
// The reader is not safe for concurrent use, like most readers.
func NewSSEReader(r io.Reader) io.Reader {
	return &sseReader{r: r}
}

// SSE line states.
const (
	sseLineStart uint8 = iota // at the first byte of a line
	sseField                  // inside a line that passes
	sseComment                // inside a comment line, which is dropped
	sseBOM1                   // at stream start, after the BOM's first byte
	sseBOM2                   // at stream start, after the BOM's second byte
)

// sseFilter is the state of the SSE line filter, kept apart from any reader
// so that it can be embedded by value.
type sseFilter struct {
	state    uint8
	started  bool  // a byte of the stream has been seen
	passed   bool  // a byte has passed
	pendCR   bool  // the last byte seen was a CR that ended a line
	keptCR   bool  // that CR passed, so an LF right after it passes too
	outCR    bool  // the last byte passed is a CR
	hasField bool  // a field line came since the last dispatch
	stashed  bool  // stash holds a byte to return on the next Read
	stash    byte  // see bomGuard
	lastTerm byte  // the last line terminator byte dropped
	dropped  int64 // bytes dropped so far
	events   int   // events dispatched: blank lines that passed after a field line
	// comments and blanks count the comment lines and the blank lines
	// dropped: the keep-alives, as units (see units).
	comments, blanks int
}

// units is the number of keep-alives dropped: comments, each with the blank
// line that usually follows it, and blank lines beyond those.
func (f *sseFilter) units() int { return f.comments + max(f.blanks-f.comments, 0) }

type sseReader struct {
	r io.Reader
	f sseFilter
}

func (s *sseReader) Read(p []byte) (int, error) {
	return s.f.read(s.r, p)
}

// read reads from r into p and filters p in place. It returns at least one
// byte, or an error, or 0, nil when r itself returned 0, nil or p is empty.
func (f *sseFilter) read(r io.Reader, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if f.stashed {
		f.stashed = false
		f.outCR = false
		f.dropped--
		p[0] = f.stash
		return 1, nil
	}
	for {
		// Until a byte has passed, leave the first byte of p free: the
		// first passing line may need the terminator before it (see bomGuard).
		off := 0
		if !f.passed && f.dropped > 0 && len(p) > 1 {
			off = 1
		}
		n, err := r.Read(p[off:])
		if n < 0 || n > len(p)-off {
			return 0, io.ErrShortBuffer
		}
		w := f.filter(p, off, n)
		if w > 0 || err != nil || n == 0 {
			return w, err
		}
	}
}

// filter filters the n bytes at p[off:], writing the bytes that pass to the
// front of p, and returns how many passed.
func (f *sseFilter) filter(p []byte, off, n int) int {
	b := p[:off+n]
	w, i := 0, off
	cr := -1 // index of the next CR at or after i, len(b) if none; -1 unknown
	if !f.started && n > 0 {
		f.started = true
		if b[i] == 0xEF {
			f.state = sseBOM1
			b[w] = b[i]
			w, i = w+1, i+1
		}
	}
	for i < len(b) {
		if f.pendCR {
			f.pendCR = false
			if b[i] == '\n' {
				if f.keptCR {
					b[w] = '\n'
					w++
				} else {
					f.lastTerm = '\n'
				}
				i++
				continue
			}
		}
		switch f.state {
		case sseField:
			j := eol(b, i, &cr)
			end := len(b)
			if j >= 0 {
				end = i + j + 1
				f.state = sseLineStart
				if b[i+j] == '\r' {
					f.pendCR, f.keptCR = true, true
				}
			}
			if w != i {
				copy(b[w:], b[i:end])
			}
			w += end - i
			i = end
		case sseLineStart:
			switch c := b[i]; c {
			case ':':
				f.state = sseComment
				f.comments++
				i++
			case '\r', '\n':
				keep := f.hasField
				f.hasField = false
				if keep {
					if c == '\n' && (w > 0 && b[w-1] == '\r' || w == 0 && f.outCR) {
						// The line before ended with a lone CR, and only
						// dropped lines came between: passed as it came,
						// this LF would join that CR into one terminator
						// and lose the dispatch. A CR ends the blank line
						// alone.
						b[w] = '\r'
					} else {
						b[w] = c
					}
					w++
					f.events++
				} else {
					f.lastTerm = c
					f.blanks++
				}
				if c == '\r' {
					f.pendCR, f.keptCR = true, keep
				}
				i++
			default:
				f.state = sseField
				f.hasField = true
				if c == 0xEF && !f.passed && w == 0 {
					// bomGuard: the first line to pass follows dropped
					// lines and may begin with a BOM, which a parser
					// strips only at the start of the stream. The last
					// dropped terminator passes before it, as a blank
					// line that dispatches nothing.
					if w == i { // no room: p has length 1
						f.stash, f.stashed = c, true
						i++
					}
					b[w] = f.lastTerm
					w++
				}
			}
		case sseComment:
			j := eol(b, i, &cr)
			if j < 0 {
				i = len(b)
				break
			}
			f.state = sseLineStart
			f.lastTerm = b[i+j]
			if b[i+j] == '\r' {
				f.pendCR, f.keptCR = true, false
			}
			i += j + 1
		case sseBOM1, sseBOM2:
			// A BOM's later byte continues it; anything else means the
			// bytes already passed begin a field line.
			want := byte(0xBB)
			if f.state == sseBOM2 {
				want = 0xBF
			}
			if b[i] != want {
				f.state = sseField
				f.hasField = true
				continue
			}
			b[w] = b[i]
			w++
			i++
			if f.state == sseBOM1 {
				f.state = sseBOM2
			} else {
				f.state = sseLineStart
			}
		}
	}
	if w > 0 {
		f.passed = true
		f.outCR = b[w-1] == '\r'
	}
	f.dropped += int64(n - w)
	return w
}

// eol returns the offset from i of the first CR or LF in b[i:], or -1.
// *cr caches the index of the next CR, so that a stream without CRs is
// scanned for them once per Read rather than once per line.
func eol(b []byte, i int, cr *int) int {
	if *cr < i {
		*cr = len(b)
		if k := bytes.IndexByte(b[i:], '\r'); k >= 0 {
			*cr = i + k
		}
	}
	if lf := bytes.IndexByte(b[i:*cr], '\n'); lf >= 0 {
		return lf
	}
	if *cr < len(b) {
		return *cr - i
	}
	return -1
}
