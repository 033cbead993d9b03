package keepalive

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/transport"
)

// Config configures a [Filter]. The zero value is ready to use: no MaxWait.
type Config struct {
	// MaxWait bounds the wait for the first byte of real content (for an
	// event stream, for the end of its first event), counted from the
	// response headers. When it passes, RoundTrip closes the body
	// and returns an error matching [ErrWaitTimeout]. Zero or negative means
	// no bound: the wait ends with the content, the connection, or the
	// request's context.
	MaxWait time.Duration

	// IdleTimeout bounds how long a response that has started may go
	// without real content: once its first real byte has arrived, a Read of
	// the body that waits longer than IdleTimeout for real content (for a
	// stream, bytes of an event; for JSON, any byte) ends the response: the
	// connection is closed and the Read fails with [ErrStalled]. Keep-alive
	// comments and blank lines do not reset it, which is the point: a
	// stream that stopped producing while its keep-alives go on would
	// otherwise hang until the request's own deadline. Time between Reads
	// does not count, so a caller that reads slowly is never cut off.
	//
	// Zero means [DefaultIdleTimeout]; negative turns the deadline off. The
	// wait before the first real byte (DeepSeek may hold a request ten
	// minutes before inference starts) is MaxWait's, not this one's.
	IdleTimeout time.Duration
}

// DefaultIdleTimeout is the idle deadline used when [Config.IdleTimeout] is
// zero. An answer that has started streams tokens many times a second; the
// longest silence an honest stream keeps is a reasoning model's thinking
// between its first chunk and its content, which can last minutes when the
// provider sends nothing while it thinks. Five minutes lets that through
// and still ends a dead stream, which would otherwise hold its connection,
// its goroutine and its gate permit forever.
const DefaultIdleTimeout = 5 * time.Minute

// Filter hides the keep-alive bytes a server sends while a request waits to
// be scheduled, and turns a connection the server closes during that wait
// into a retryable error. Create one with [New]; a Filter is safe for
// concurrent use; the only per-request state it holds is the list of the
// bodies its idle deadline watches.
type Filter struct {
	maxWait time.Duration
	idle    *watchdog // nil: off

	// Injected by tests.
	now       func() time.Time
	afterFunc func(time.Duration, func()) (stop func() bool)
}

// New returns a Filter configured by cfg.
func New(cfg Config) *Filter {
	idle := cfg.IdleTimeout
	switch {
	case idle == 0:
		idle = DefaultIdleTimeout
	case idle < 0:
		idle = 0
	}
	var dog *watchdog
	if idle > 0 {
		dog = newWatchdog(idle)
	}
	return &Filter{
		maxWait: cfg.MaxWait,
		idle:    dog,
		now:     time.Now,
		afterFunc: func(d time.Duration, fn func()) func() bool {
			return time.AfterFunc(d, fn).Stop
		},
	}
}

// Wrap returns a transport that sends requests through next (nil means
// [http.DefaultTransport]) and filters the bodies of their responses.
//
// A 2xx response whose Content-Type is application/json (or any
// application/*+json) gets a body read through [NewJSONReader]; one whose
// Content-Type is text/event-stream gets [NewSSEReader]. Other responses
// pass untouched: other media types, non-2xx statuses, 204 and 205, HEAD
// requests, empty bodies, and bodies with a Content-Encoding, whose bytes
// are not the text the filters understand.
//
// # Waiting for the first real byte
//
// For a filtered response, RoundTrip does not return when the headers
// arrive but when the first byte of real content does; keep-alive bytes
// before it are consumed. The bytes read by then are delivered first by the
// returned body. This bends the [http.RoundTripper] convention that
// RoundTrip returns once the headers are in: it is what lets a connection
// closed while the request waits to be scheduled become an error the retry
// layer can act on, instead of an unexpected EOF inside an SDK that has
// already accepted a 200.
//
// The wait ends with an error, the body closed, when:
//   - the body ends or fails before any real byte after keep-alive bytes,
//     or fails before any byte at all: a [*WaitError] matching
//     [ErrClosedWhileWaiting] and [transport.ErrNoResponse], and the read
//     error as its Cause (a body that ends cleanly with no byte at all is an
//     empty body and is returned as such);
//   - [Config.MaxWait] passes: a [*WaitError] matching [ErrWaitTimeout];
//   - the request's context is canceled or its deadline passes: an error
//     matching the context's error. The wait ends promptly with any body:
//     the bodies of net/http's transports end a read in progress themselves
//     when the context ends; any other body is closed when it does, which
//     ends the read.
//
// The wait starts no goroutine of its own: the context (for a body not from
// net/http) and MaxWait are watched with [context.AfterFunc] and
// [time.AfterFunc], whose callbacks run only if they fire (for contexts made
// by the context package). Watching a context costs a few allocations per
// response, which the bodies of net/http's transports are spared.
//
// # The first event of a stream
//
// For an event stream, RoundTrip reads on past the first real byte until
// the first event is dispatched (or 8 KiB of it have come), and a body cut
// before then, other than by a clean end, fails the wait with
// [ErrClosedWhileWaiting]; an idle deadline passed before then fails it
// with [ErrStalled], in a [*WaitError] that matches
// [transport.ErrNoResponse]. When that event's data is a JSON object with
// an "error" member, or the event's type is "error" and its data a JSON
// object, and the error's "type", "code" or "status" names:
//   - an account out of credit named by a code [transport.QuotaExhausted]
//     recognises ("insufficient_quota", ...): a 429 that is classified as
//     out of credit;
//   - another billing or credit error ("billing", "credit", "quota", or
//     the code 402; Anthropic's billing_error): a 402;
//   - a rate limit ("rate_limit", "resource_exhausted",
//     "too_many_requests", or the code 429): a 429;
//   - "overloaded_error" (Anthropic) or the code 529: a 529;
//   - another overload ("overload", "unavailable", "capacity", or the code
//     503): a 503,
//
// RoundTrip closes the stream and returns a response with that status, the
// stream's headers with Content-Type application/json and the event's data
// as its body. Any other first event, and every later one, passes as sent.
//
// # Content-Length
//
// A JSON body loses bytes only before its first real byte, so its
// ContentLength and Content-Length header are reduced by the bytes dropped.
// An SSE body may lose comment lines anywhere, so its ContentLength becomes
// -1 and the header is removed.
//
// # Schedule wait
//
// When keep-alives repeated before the first real byte (at least two empty
// lines or comments: one alone is padding, such as a proxy's
// ": OPENROUTER PROCESSING"), the time from the response headers to the
// end of the wait (the first real byte, or the failure) is added to
// [transport.Facts].ScheduleWait in the request's [transport.Record], if it
// carries one, and the returned body reports it by a ScheduleWait()
// time.Duration method, which is how the concurrency gate above learns
// that the server is queueing. A response that starts with real content
// records nothing and reports zero.
func (f *Filter) Wrap(next http.RoundTripper) http.RoundTripper {
	return &roundTripper{f: f, next: roundtrip.Base(next)}
}

type roundTripper struct {
	f    *Filter
	next http.RoundTripper
}

func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := roundtrip.Do(t.next, req)
	if err != nil {
		return nil, err
	}
	kind := bodyKindOf(req, resp)
	if kind == kindNone {
		return resp, nil
	}
	return t.f.wait(req.Context(), resp, kind)
}

// CloseIdleConnections forwards to the next transport.
func (t *roundTripper) CloseIdleConnections() { roundtrip.CloseIdleConnections(t.next) }

// wait reads resp's body until its first real byte (for a stream, until
// its first event) and returns resp with the filtered body, the response
// an error event names, or an error with the body closed.
func (f *Filter) wait(ctx context.Context, resp *http.Response, kind uint8) (*http.Response, error) {
	start := f.now()
	b := newBody(resp.Body, kind)
	if f.idle != nil {
		// Set before the callbacks below can close b, which reads them:
		// the watchdog, and the record a stall is written to.
		b.idle.dog, b.rec = f.idle, transport.RecordFrom(ctx)
	}
	var stopCtx func() bool
	if ctx.Done() != nil && !followsContext(resp.Body) {
		stopCtx = context.AfterFunc(ctx, func() { _ = b.Close() })
	}
	var stopTimer func() bool
	if f.maxWait > 0 {
		stopTimer = f.afterFunc(f.maxWait, func() { _ = b.Close() })
	}

	n, err := b.fill()

	// A stream's wait goes on to the end of its first event, and MaxWait
	// bounds all of it.
	lookahead := n > 0 && kind == kindSSE && err == nil
	timerFired := false
	if !lookahead {
		timerFired = stopTimer != nil && !stopTimer()
	}
	dropped := b.dropped()
	var waited time.Duration
	if dropped > 0 || err != nil || timerFired {
		// Only a wait, or a failure that reports one, needs the clock.
		waited = f.now().Sub(start)
	}
	// One newline or comment before the answer is padding (a proxy's
	// ": OPENROUTER PROCESSING", a newline sent with the headers); a
	// server that queues a request repeats its keep-alives while it
	// waits. Only that is a schedule wait.
	queued := b.units() >= minWaitUnits
	if queued {
		transport.RecordFrom(ctx).Update(func(fa *transport.Facts) { fa.ScheduleWait += waited })
	}
	started := n > 0 && !timerFired
	if started && f.idle != nil {
		f.idle.watch(b)
	}
	if started && lookahead {
		err = b.lookahead()
		timerFired = stopTimer != nil && !stopTimer()
		if timerFired {
			waited = f.now().Sub(start)
		}
	}
	ctxFired := stopCtx != nil && !stopCtx()
	switch {
	case ctxFired || ctx.Err() != nil:
		_ = b.Close()
		return nil, contextError(ctx)
	case timerFired:
		_ = b.Close()
		return nil, &WaitError{Err: ErrWaitTimeout, Waited: waited, KeepAliveBytes: dropped}
	case n == 0 && err != nil && (err != io.EOF || dropped > 0):
		_ = b.Close()
		return nil, &WaitError{Err: ErrClosedWhileWaiting, Cause: err, Waited: waited, KeepAliveBytes: dropped}
	case b.has(stateFired):
		// The stream started and stopped before its first event: nothing
		// reached the caller, so another attempt may be made.
		_ = b.Close()
		b.rec.Update(func(fa *transport.Facts) { fa.Stalled = true })
		return nil, &WaitError{Err: ErrStalled, Waited: f.now().Sub(start), KeepAliveBytes: dropped}
	case kind == kindSSE && b.sse.filter.events == 0 && err != nil && err != io.EOF:
		// Cut before its first event: a parser would have read nothing.
		_ = b.Close()
		return nil, &WaitError{Err: ErrClosedWhileWaiting, Cause: err, Waited: f.now().Sub(start), KeepAliveBytes: dropped}
	}
	if kind == kindSSE && b.sse.filter.events > 0 {
		if status, data := errorEvent(b.sse.head[:b.end]); status != 0 {
			_ = b.Close()
			return errorResponse(resp, status, data), nil
		}
	}

	if b.idle.dog != nil {
		b.state.And(^stateReading)
		if b.headErr != nil {
			// The body ended with the bytes read so far: no Read will wait.
			b.stopIdle()
		}
	}
	if queued {
		b.waited = waited
	}
	resp.Body = b
	switch {
	case kind == kindSSE && resp.ContentLength >= 0:
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
	case kind == kindJSON && resp.ContentLength >= 0 && dropped > 0:
		resp.ContentLength -= dropped
		if resp.Header.Get("Content-Length") != "" {
			resp.Header.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
		}
	}
	return resp, nil
}

// contextError reports the end of the wait by the context.
func contextError(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("keepalive: waiting for the response to start: %w: %w", err, cause)
	}
	return fmt.Errorf("keepalive: waiting for the response to start: %w", err)
}

// bodyKindOf tells which filter, if any, resp's body gets.
func bodyKindOf(req *http.Request, resp *http.Response) uint8 {
	switch {
	case req.Method == http.MethodHead,
		resp.Body == nil, resp.Body == http.NoBody,
		resp.StatusCode < 200, resp.StatusCode > 299,
		resp.StatusCode == http.StatusNoContent, resp.StatusCode == http.StatusResetContent:
		return kindNone
	}
	if ce := headerValue(resp.Header, "Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return kindNone
	}
	return mediaKind(headerValue(resp.Header, "Content-Type"))
}

// headerValue is h.Get(key) for a key already in canonical form, without
// canonicalizing it again.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// followsContext reports whether a read of body ends by itself when the
// request's context ends: it is one of the response bodies of net/http's
// transport, HTTP/1 or HTTP/2, plain or gunzipped (a test checks the first
// two against a server). A type renamed by a later Go release only costs
// the watch this spares.
func followsContext(body io.ReadCloser) bool {
	t := reflect.TypeOf(body)
	if t == nil {
		return false
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() != "net/http" {
		return false
	}
	switch t.Name() {
	case "bodyEOFSignal", "gzipReader", "http2transportResponseBody", "http2gzipReader":
		return true
	}
	return false
}
