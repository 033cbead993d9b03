// Package httpbody wraps response bodies: a hook that runs once when a body
// ends, the schedule wait a body reports, and the drain-and-close helpers
// every layer uses for the bodies it throws away.
package httpbody

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// ErrClosed is what an [OnDone] callback receives when the body was
// closed before it reached EOF: the caller stopped reading, which is not a
// failure of the server. Use [Failed] to tell real failures apart.
var ErrClosed = errors.New("response body closed before EOF")

// Failed reports whether err, as given to an [OnDone] callback, means
// the body failed (a read error), as opposed to a clean EOF (nil) or an early
// Close by the caller ([ErrClosed]).
func Failed(err error) bool {
	return err != nil && !errors.Is(err, ErrClosed)
}

// OnDone wraps body so that done runs exactly once, when the body first
// reaches EOF (done(nil)), fails (done(err) with the read error), or is closed
// (done([ErrClosed]) if it had not ended before), whichever comes first.
// Close closes body before calling done, so a resource released in done is
// released after the connection is settled.
//
// Read and Close may be called concurrently, as [http.Response.Body] allows;
// done still runs once. The wrapper costs one allocation, made here, and
// nothing per Read. When body also implements [io.Writer] (the body of a 101
// Switching Protocols response), so does the wrapper; it passes on the
// schedule wait body reports ([ScheduleWaiter]).
//
// A nil body or [http.NoBody] has nothing to wait for: done(nil) runs before
// OnDone returns, and the result is [http.NoBody].
func OnDone(body io.ReadCloser, done func(err error)) io.ReadCloser {
	return OnDoneWith(body, done, callDone)
}

func callDone(done func(error), err error) { done(err) }

// OnDoneWith is [OnDone] with state passed to done: done(state, err)
// runs exactly once, as done(err) does there. The wrapper holds state by
// value, so when done is a plain function or a method expression, and not a
// closure, the wrapper and the state cost one allocation between them,
// where a closure over the same state would cost one more.
func OnDoneWith[S any](body io.ReadCloser, state S, done func(state S, err error)) io.ReadCloser {
	if body == nil || body == http.NoBody {
		done(state, nil)
		return http.NoBody
	}
	hb := &hookedBody[S]{rc: body, state: state, done: done}
	if w, ok := body.(io.Writer); ok {
		return &hookedReadWriteBody[S]{hookedBody: hb, w: w}
	}
	return hb
}

type hookedBody[S any] struct {
	rc    io.ReadCloser
	done  func(S, error)
	fired atomic.Bool
	state S
}

func (b *hookedBody[S]) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		if err == io.EOF {
			b.fire(nil)
		} else {
			b.fire(err)
		}
	}
	return n, err
}

func (b *hookedBody[S]) Close() error {
	err := b.rc.Close()
	b.fire(ErrClosed)
	return err
}

// ScheduleWait passes on what the wrapped body reports.
func (b *hookedBody[S]) ScheduleWait() time.Duration { return ScheduleWaitOf(b.rc) }

// QuotaExhausted passes on the verdict transport.Classify left with the
// wrapped body, so that a response classified below is not read again.
func (b *hookedBody[S]) QuotaExhausted() (exhausted, known bool) {
	if v, ok := b.rc.(interface{ QuotaExhausted() (bool, bool) }); ok {
		return v.QuotaExhausted()
	}
	return false, false
}

func (b *hookedBody[S]) fire(err error) {
	if b.fired.CompareAndSwap(false, true) {
		b.done(b.state, err)
	}
}

type hookedReadWriteBody[S any] struct {
	*hookedBody[S]
	w io.Writer
}

func (b *hookedReadWriteBody[S]) Write(p []byte) (int, error) { return b.w.Write(p) }

// ScheduleWaiter is implemented by a response body that knows how long the
// server held the response open, sending keep-alive bytes, before its first
// real byte: how long the request waited to be scheduled. The keepalive
// layer's filtered bodies implement it and the wrappers of [OnDone] pass
// it on, so a layer above keepalive learns the wait from the response it
// gets back, whether or not anyone records facts. A custom body wrapper
// between them that does not pass it on hides it.
type ScheduleWaiter interface {
	// ScheduleWait returns the time spent waiting to be scheduled; zero
	// when the server sent real content at once.
	ScheduleWait() time.Duration
}

// ScheduleWaitOf returns what body reports as a [ScheduleWaiter], or zero
// when it reports nothing.
func ScheduleWaitOf(body io.Reader) time.Duration {
	if sw, ok := body.(ScheduleWaiter); ok {
		return sw.ScheduleWait()
	}
	return 0
}

// DrainLimit and DrainTimeout bound what [DrainAndClose] does with a body
// it throws away: it reads at most DrainLimit bytes, for at most
// DrainTimeout, then closes it. Reading a short body to EOF lets the
// connection go back to the idle pool; a long or stalled one is cheaper to
// close than to wait for.
const (
	DrainLimit   = 64 << 10
	DrainTimeout = 250 * time.Millisecond
)

// DrainAndClose reads at most [DrainLimit] bytes of body, for at most
// [DrainTimeout], discarding them, then closes it. A nil body is ignored.
func DrainAndClose(body io.ReadCloser) {
	if body == nil || body == http.NoBody {
		return
	}
	timer := time.AfterFunc(DrainTimeout, func() { _ = body.Close() })
	_, _ = io.CopyN(io.Discard, body, DrainLimit)
	timer.Stop()
	_ = body.Close()
}

// DiscardResponse drains and closes the body of a response that a layer does
// not return to its caller. A nil response is ignored.
func DiscardResponse(resp *http.Response) {
	if resp != nil {
		DrainAndClose(resp.Body)
	}
}

// Keep reads the body of a response that a layer may still return later,
// at most [DrainLimit] bytes for at most [DrainTimeout], and closes it. It
// returns a copy of resp whose body holds what was read, or nil when the
// body did not end within those bounds (or resp is nil): a truncated
// answer is never returned as a whole one.
func Keep(resp *http.Response) *http.Response {
	if resp == nil {
		return nil
	}
	body := resp.Body
	if body == nil || body == http.NoBody {
		c := *resp
		c.Body = http.NoBody
		return &c
	}
	timer := time.AfterFunc(DrainTimeout, func() { _ = body.Close() })
	data, err := io.ReadAll(io.LimitReader(body, DrainLimit+1))
	stopped := timer.Stop()
	_ = body.Close()
	if err != nil || !stopped || len(data) > DrainLimit {
		return nil
	}
	c := *resp
	c.Body = io.NopCloser(bytes.NewReader(data))
	c.ContentLength = int64(len(data))
	return &c
}

// CloseRequest closes req.Body if there is one. A layer that returns
// early, without handing the request to the next transport, calls it, as the
// [http.RoundTripper] contract requires.
func CloseRequest(req *http.Request) {
	if req != nil && req.Body != nil {
		_ = req.Body.Close()
	}
}
