package transport

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Facts are what the layers learned about one logical request, across all
// its attempts. Durations are totals over the attempts so far; a layer that
// wants one attempt's share reads the total before and after it.
type Facts struct {
	// Attempts is the number of attempts started so far (1 for the first).
	// The retry layer sets it before each attempt.
	Attempts int
	// Backoff is the total time slept between attempts.
	Backoff time.Duration
	// RetryAfter is the last server-requested delay that was honoured, zero
	// when the server asked for none.
	RetryAfter time.Duration
	// GateWait is the total time spent queued in the concurrency gate.
	GateWait time.Duration
	// GateKey is the gate key of the last attempt (for example the host).
	GateKey string
	// ScheduleWait is the total time the server held responses open with
	// keep-alive bytes before the first real byte: time waiting to be
	// scheduled.
	ScheduleWait time.Duration
	// BreakerState is the breaker state the last attempt met ("closed",
	// "open", "half-open"), empty when no breaker is in the stack.
	BreakerState string
	// Fallback reports whether the last attempt was served by the breaker's
	// fallback transport.
	Fallback bool
	// RetryRefused reports that the retry layer wanted another attempt and
	// its retry budget refused it.
	RetryRefused bool
	// Stalled reports that the keep-alive filter ended a response because
	// no real content came within its idle deadline (keepalive's
	// Config.IdleTimeout).
	Stalled bool
	// Outcome is how the last completed attempt ended.
	Outcome Outcome
	// RateLimits are the windowed limits the last response announced in
	// its headers ([ParseRateLimits]); zero when it announced none.
	RateLimits RateLimits
}

// Record is the per-request record carried in a request's context: layers
// write [Facts] into it and observers (telemetry, tests, the caller) read
// them. The layers write into the record the request carries and, but for
// the telemetry layer, which observes, make none of their own, so a request
// nobody observes costs no record: an observer attaches one with
// [ContextWithRecord] or [EnsureRecord] before the request enters the
// layers it observes. A Record is safe for concurrent use, and its
// methods do nothing on a nil *Record, so a layer can write without
// checking whether anyone listens.
type Record struct {
	mu    sync.Mutex
	facts Facts
}

// Update calls fn with the facts, under the record's lock. fn must not block
// or call back into the record.
func (r *Record) Update(fn func(*Facts)) {
	if r == nil {
		return
	}
	r.mu.Lock()
	fn(&r.facts)
	r.mu.Unlock()
}

// Facts returns a copy of the facts recorded so far.
func (r *Record) Facts() Facts {
	if r == nil {
		return Facts{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.facts
}

type recordKey struct{}

// ContextWithRecord returns a copy of ctx that carries r.
func ContextWithRecord(ctx context.Context, r *Record) context.Context {
	return context.WithValue(ctx, recordKey{}, r)
}

// RecordFrom returns the record carried by ctx, or nil.
func RecordFrom(ctx context.Context) *Record {
	r, _ := ctx.Value(recordKey{}).(*Record)
	return r
}

// EnsureRecord returns req and the record its context carries. When there is
// none it creates one and returns a shallow copy of req whose context carries
// it; req itself is never modified. An observer of the layers under it (a
// test, a caller, a layer of its own) calls this.
func EnsureRecord(req *http.Request) (*http.Request, *Record) {
	if r := RecordFrom(req.Context()); r != nil {
		return req, r
	}
	// The record lives inside the context that carries it: one allocation
	// for both, on a path every request takes.
	c := &recordContext{Context: req.Context()}
	return req.WithContext(c), &c.rec
}

// recordContext is a context carrying a record it holds by value; it
// answers [RecordFrom] as the context.WithValue of [ContextWithRecord] does.
type recordContext struct {
	context.Context
	rec Record
}

func (c *recordContext) Value(key any) any {
	if key == (recordKey{}) {
		return &c.rec
	}
	return c.Context.Value(key)
}

func (c *recordContext) String() string { return fmt.Sprint(c.Context) + ".WithRecord" }
