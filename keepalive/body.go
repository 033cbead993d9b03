package keepalive

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Body kinds.
const (
	kindNone uint8 = iota
	kindJSON
	kindSSE
)

// headSize is the buffer that holds the bytes read while waiting for the
// first real byte; they are handed to the caller before anything else. It
// is part of every filtered body, so it is small (every byte of it is
// allocated and cleared per response): it bounds only the first Read of the
// wait and the bytes the caller gets before reads go through to the response
// body; keep-alive bytes are dropped as they are read, however many there
// are, and the filters work with a buffer of any size.
const headSize = 24

// minWaitUnits is how many keep-alives (empty lines, comments) must come
// before the first real byte for the time they took to count as a wait to
// be scheduled: one alone is padding.
const minWaitUnits = 2

// maxEmptyReads bounds how many consecutive 0, nil reads the wait accepts
// from the underlying body, as bufio does.
const maxEmptyReads = 100

// body is the filtered response body returned to the caller. Its first bytes
// come from head, read during the wait; then it reads from rc through the
// filter of its kind. Close closes rc exactly once, whoever calls it first:
// the caller, the wait that failed, or the context or timer that ended it.
type body struct {
	rc       io.ReadCloser
	kind     uint8
	sse      sseFilter
	json     jsonFilter
	off, end int
	headErr  error         // the error that came with the head bytes, sticky
	waited   time.Duration // the schedule wait, set before the body is returned
	closeMu  sync.Mutex
	closed   atomic.Bool // set by the first Close; Read fails after it
	head     [headSize]byte
}

func newBody(rc io.ReadCloser, kind uint8) *body {
	return &body{rc: rc, kind: kind}
}

// fill reads until the first real byte is in head, or an error ends the
// wait. It returns the number of real bytes read and that error.
func (b *body) fill() (int, error) {
	for range maxEmptyReads {
		n, err := b.filtered(b.head[:])
		if n > 0 || err != nil {
			b.end, b.headErr = n, err
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

// filtered reads from rc through the filter of the body's kind.
func (b *body) filtered(p []byte) (int, error) {
	if b.kind == kindSSE {
		return b.sse.read(b.rc, p)
	}
	return b.json.read(b.rc, p)
}

// units is the number of keep-alives dropped so far: lines or comments.
func (b *body) units() int {
	if b.kind == kindSSE {
		return b.sse.units()
	}
	return b.json.units()
}

// dropped is the number of keep-alive bytes consumed so far.
func (b *body) dropped() int64 {
	if b.kind == kindSSE {
		return b.sse.dropped
	}
	return b.json.dropped
}

// Read yields the head bytes, then the filtered body. After Close it
// fails with [http.ErrBodyReadAfterClose], as net/http's bodies do, also
// while head bytes remain unread.
func (b *body) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.off < b.end {
		n := copy(p, b.head[b.off:b.end])
		b.off += n
		if b.off == b.end && b.headErr != nil {
			return n, b.headErr
		}
		return n, nil
	}
	if b.headErr != nil {
		return 0, b.headErr
	}
	return b.filtered(p)
}

// ScheduleWait implements a ScheduleWait() time.Duration method: the time
// from the response headers to the first real byte, zero when fewer than
// two keep-alives came first.
func (b *body) ScheduleWait() time.Duration { return b.waited }

// Close closes rc the first time it is called. A call made while another is
// in progress returns when rc is closed, so the wait that gives up on a body
// the context's callback is closing returns with the body closed.
func (b *body) Close() error {
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	if b.closed.Load() {
		return nil
	}
	b.closed.Store(true)
	return b.rc.Close()
}
