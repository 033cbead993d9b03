package keepalive

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// Body kinds.
const (
	kindNone uint8 = iota
	kindJSON
	kindSSE
)

// headSize is the buffer of a JSON body that holds the bytes read while
// waiting for the first real byte; they are handed to the caller before
// anything else. It is part of every filtered JSON body, so it is small
// (every byte of it is allocated and cleared per response): it bounds only
// the first Read of the wait and the bytes the caller gets before reads go
// through to the response body; keep-alive bytes are dropped as they are
// read, however many there are, and the filters work with a buffer of any
// size.
const headSize = 24

// sseHeadSize is the first size of a stream's head, which holds the
// stream's first event so that an error event can be told from an answer
// (see errorEvent); maxLookahead bounds it. A first event longer than that
// is passed on unread as an error.
const (
	sseHeadSize  = 512
	maxLookahead = 8 << 10
)

// minWaitUnits is how many keep-alives (empty lines, comments) must come
// before the first real byte for the time they took to count as a wait to
// be scheduled: one alone is padding.
const minWaitUnits = 2

// maxEmptyReads bounds how many consecutive 0, nil reads the wait accepts
// from the underlying body, as bufio does.
const maxEmptyReads = 100

// body is the filtered response body returned to the caller. Its first bytes
// come from head, read during the wait; then it reads from rc through the
// filter of its kind. rc is closed exactly once, whoever asks first: the
// caller's Close, the wait that failed, the context or timer that ended
// it, or the idle deadline.
type body struct {
	rc      io.ReadCloser
	sse     *sseHead // a stream's filter and head; nil for JSON
	json    jsonFilter
	headErr error             // the error that came with the head bytes, sticky
	waited  time.Duration     // the schedule wait, set before the body is returned
	rec     *transport.Record // where a stall is written; set with idle.dog
	closeMu sync.Mutex
	state   atomic.Uint32 // the state bits below
	// off and end bound the head bytes not yet read; uint16 holds any
	// head (see maxLookahead).
	off, end uint16
	idle     idleWatch
	headArr  [headSize]byte // a JSON body's head
}

// Bits of body.state. A body is allocated per response, so its flags share
// one word: the struct stays in a smaller size class.
const (
	stateClosed   uint32 = 1 << iota // the first Close was called; Read fails after it
	stateRCClosed                    // rc has been closed; set under closeMu
	stateReading                     // a Read (or the wait) is waiting for content
	stateFired                       // the idle deadline passed and rc was closed
	stateDone                        // no longer watched: stopped, or fired
)

// maxLookahead must fit body.off and body.end.
const _ = uint16(maxLookahead)

// has reports whether all of bits are set in b.state.
func (b *body) has(bits uint32) bool { return b.state.Load()&bits == bits }

// sseHead is what a stream's body holds beyond a JSON body's, allocated in
// one piece: its filter and its head, which starts in buf and grows while
// the lookahead needs it.
type sseHead struct {
	filter sseFilter
	head   []byte
	buf    [sseHeadSize]byte
}

func newBody(rc io.ReadCloser, kind uint8) *body {
	b := &body{rc: rc}
	if kind == kindSSE {
		h := new(sseHead)
		h.head = h.buf[:]
		b.sse = h
	}
	return b
}

// head is the buffer of the bytes read before the caller's first Read.
func (b *body) head() []byte {
	if b.sse != nil {
		return b.sse.head
	}
	return b.headArr[:]
}

// fill reads until the first real byte is in head, or an error ends the
// wait. It returns the number of real bytes read and that error.
func (b *body) fill() (int, error) {
	for range maxEmptyReads {
		n, err := b.filtered(b.head())
		if n > 0 || err != nil {
			b.end, b.headErr = uint16(n), err
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

// lookahead reads on after the first real byte of a stream until its first
// event is dispatched, head holds maxLookahead bytes, or an error ends it,
// which it returns. Nothing has reached the caller yet, so an error event
// can still become a status (see errorEvent).
func (b *body) lookahead() error {
	h := b.sse
	empty := 0
	for h.filter.events == 0 && b.headErr == nil {
		if int(b.end) == len(h.head) {
			if len(h.head) >= maxLookahead {
				return nil
			}
			head := make([]byte, min(2*len(h.head), maxLookahead))
			copy(head, h.head[:b.end])
			h.head = head
		}
		n, err := b.filtered(h.head[b.end:])
		b.end += uint16(n)
		if n > 0 {
			b.touch()
			empty = 0
		} else if empty++; empty >= maxEmptyReads && err == nil {
			err = io.ErrNoProgress
		}
		b.headErr = err
	}
	return b.headErr
}

// filtered reads from rc through the filter of the body's kind.
func (b *body) filtered(p []byte) (int, error) {
	if b.sse != nil {
		return b.sse.filter.read(b.rc, p)
	}
	return b.json.read(b.rc, p)
}

// units is the number of keep-alives dropped so far: lines or comments.
func (b *body) units() int {
	if b.sse != nil {
		return b.sse.filter.units()
	}
	return b.json.units()
}

// dropped is the number of keep-alive bytes consumed so far.
func (b *body) dropped() int64 {
	if b.sse != nil {
		return b.sse.filter.dropped
	}
	return b.json.dropped
}

// Read yields the head bytes, then the filtered body. After Close it
// fails with [http.ErrBodyReadAfterClose], as net/http's bodies do, also
// while head bytes remain unread. Once the idle deadline has ended the
// response, Read fails with [ErrStalled].
func (b *body) Read(p []byte) (int, error) {
	if b.has(stateClosed) {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.off < b.end {
		n := copy(p, b.head()[b.off:b.end])
		b.off += uint16(n)
		if b.off == b.end && b.headErr != nil {
			b.stopIdle()
			return n, b.headErr
		}
		return n, nil
	}
	if b.headErr != nil {
		b.stopIdle()
		return 0, b.headErr
	}
	if b.idle.dog == nil {
		return b.filtered(p)
	}
	b.touch()
	n, err := b.filtered(p)
	b.state.And(^stateReading)
	if err != nil {
		b.stopIdle()
		if b.has(stateFired) {
			err = ErrStalled
			b.headErr = err
			b.rec.Update(func(f *transport.Facts) { f.Stalled = true })
		}
	}
	return n, err
}

// ScheduleWait implements a ScheduleWait() time.Duration method: the time
// from the response headers to the first real byte, zero when fewer than
// two keep-alives came first.
func (b *body) ScheduleWait() time.Duration { return b.waited }

// Close closes rc unless it is closed already and stops the idle deadline.
// A call made while another is in progress returns when rc is closed, so the
// wait that gives up on a body the context's callback is closing returns
// with the body closed.
func (b *body) Close() error {
	b.stopIdle()
	b.state.Or(stateClosed)
	return b.closeRC()
}

// closeRC closes rc the first time it is called.
func (b *body) closeRC() error {
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	if b.state.Or(stateRCClosed)&stateRCClosed != 0 {
		return nil
	}
	return b.rc.Close()
}

// idleWatch is one body's place in its filter's [watchdog]; the body's
// state holds the rest (reading, fired, done).
type idleWatch struct {
	dog   *watchdog    // the filter's, nil when the deadline is off; set before the body is shared
	since atomic.Int64 // when the current wait for content began, in ns from dog.epoch

	// Guarded by dog.mu. A body is listed when it is the list's head or
	// has a prev.
	prev, next *body
}

// touch marks the start of a wait for content, now.
func (b *body) touch() {
	if b.idle.dog == nil {
		return
	}
	b.idle.since.Store(b.idle.dog.now())
	b.state.Or(stateReading)
}

// stopIdle ends the watch of b for good.
func (b *body) stopIdle() {
	w := &b.idle
	if w.dog == nil || b.state.Or(stateDone)&stateDone != 0 {
		return
	}
	w.dog.mu.Lock()
	w.dog.unlink(b)
	w.dog.mu.Unlock()
}

// watchdog is the idle deadline of a filter's bodies ([Config.IdleTimeout]):
// it ends a body whose Read has waited for real content longer than the
// limit. Between Reads the clock does not run against the server: a caller
// that reads slowly is not a stalled stream.
//
// One timer serves every body of the filter, so that a body costs no timer
// and a Read one reading of the monotonic clock. The watched bodies form a
// list; while it is not empty the timer is armed for the earliest deadline
// a body's Read in progress can reach (a Read that starts later ends later).
// When it fires, it ends the bodies whose deadline has passed and re-arms.
// It is not stopped when the last body leaves: its next firing finds the
// list empty and leaves it disarmed.
type watchdog struct {
	limit time.Duration
	epoch time.Time

	mu    sync.Mutex
	head  *body
	timer *time.Timer // made at the first watch
	armed bool
}

func newWatchdog(limit time.Duration) *watchdog {
	return &watchdog{limit: limit, epoch: time.Now()}
}

// now is the time since epoch in ns, read from the monotonic clock.
func (d *watchdog) now() int64 { return int64(time.Since(d.epoch)) }

// watch starts the idle deadline of b, whose b.idle.dog is d: the wait for
// its first real byte has just ended and the wait for the rest begins. A
// body closed meanwhile (by its context, or MaxWait) is not watched.
func (d *watchdog) watch(b *body) {
	w := &b.idle
	b.touch()
	d.mu.Lock()
	defer d.mu.Unlock()
	// stopIdle marks done before it takes d.mu: either it is seen here, or
	// stopIdle unlinks b after this.
	if b.has(stateDone) {
		return
	}
	w.prev, w.next = nil, d.head
	if d.head != nil {
		d.head.idle.prev = b
	}
	d.head = b
	if d.armed {
		return // armed for a deadline no later than b's
	}
	d.armed = true
	if d.timer == nil {
		d.timer = time.AfterFunc(d.limit, d.fire)
	} else {
		d.timer.Reset(d.limit)
	}
}

// unlink takes b off the list, if it is on it. d.mu is held.
func (d *watchdog) unlink(b *body) {
	w := &b.idle
	if d.head != b && w.prev == nil {
		return // not listed
	}
	if w.prev != nil {
		w.prev.idle.next = w.next
	} else {
		d.head = w.next
	}
	if w.next != nil {
		w.next.idle.prev = w.prev
	}
	w.prev, w.next = nil, nil
}

// fire ends the bodies whose Read has waited the limit and re-arms the
// timer for the earliest deadline left.
func (d *watchdog) fire() {
	now := d.now()
	var stalled []*body
	d.mu.Lock()
	next := now + int64(d.limit)
	for b := d.head; b != nil; {
		w := &b.idle
		after := w.next
		if b.has(stateReading) {
			if deadline := w.since.Load() + int64(d.limit); deadline > now {
				next = min(next, deadline)
			} else if b.state.Or(stateDone)&stateDone == 0 {
				b.state.Or(stateFired)
				d.unlink(b)
				stalled = append(stalled, b)
			}
		}
		b = after
	}
	d.armed = d.head != nil
	if d.armed {
		d.timer.Reset(time.Duration(next - now))
	}
	d.mu.Unlock()
	// Closing may block on the connection: not under the lock.
	for _, b := range stalled {
		_ = b.closeRC()
	}
}
