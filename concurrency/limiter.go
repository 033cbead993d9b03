package concurrency

import (
	"context"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// Limiter is the gate's admission control and limit state: it decides when a
// request for a key may start, queues the ones that may not yet, and learns
// the limit from the [Feedback] each finished request reports. The [Gate]
// does everything around it (keys, priorities, holding the permit until the
// response body is done, measuring, recording facts) and calls nothing but
// this interface, so a limit kept elsewhere (shared by many processes through
// Redis, for example) plugs in through [Config].Limiter without changing the
// gate. [NewLimiter] returns the in-process implementation the gate uses by
// default.
//
// # Who calls what, and when
//
// For every attempt the gate calls Acquire once, from the goroutine that
// sends the request, before the request is handed to the next transport.
// If Acquire returns a nil error, the gate calls the returned [Permit]'s
// Release exactly once, when the attempt is over: when the response body
// reaches EOF, fails or is closed, or at once when the transport under the
// gate returned an error or panicked. Release may run on any goroutine (the
// one that reads or closes the body), never twice, and never after an
// Acquire that failed. The gate never calls Release for a permit it did not
// receive, and always calls it, even when the caller's context is done.
//
// # Concurrency
//
// All methods are called concurrently from many goroutines, for the same key
// and for different keys; an implementation must be safe for that. Release
// must not block for long: it runs on the path that closes a response body.
// A networked implementation may finish a release asynchronously, as long as
// the permit is eventually returned.
//
// # Acquire
//
// Acquire waits until one more request for key may be in flight, and returns
// the permit that stands for it. While the limit for key is reached, callers
// wait in a queue: a waiting [transport.Interactive] request is admitted
// before any waiting [transport.Background] one, and requests of the same
// priority are admitted in arrival order (across processes too, for a shared
// limiter, as far as it can: bounded, jittered or notified waiting, never a
// busy-polling storm).
//
// Acquire returns an error, and no permit, when:
//   - ctx is done while waiting: ctx.Err() (or an error wrapping it). The
//     waiter leaves the queue and no trace: no permit is held, no count
//     changes, and the next waiter is not skipped;
//   - the queue for key is full: an error for which errors.Is(err,
//     [ErrQueueFull]) is true, returned at once;
//   - the wait exceeded the limiter's queue timeout: errors.Is(err,
//     [ErrQueueTimeout]);
//   - the limit state cannot be reached (a shared limiter that cannot
//     reach its store and is configured to fail closed): an error of the
//     implementation's choosing, which should say so.
//
// Acquire must return promptly when a permit is free: the in-process
// implementation admits an uncontended request without allocating or
// blocking.
//
// # Permits and leases
//
// A [Permit] may be a lease with an expiry (the Redis limiter's permits are):
// the limiter renews it on its own while it is held, however long that is (a
// streamed answer may hold a permit for ten minutes), so that a process that
// dies without releasing loses its permits within the lease's time to live.
// The gate neither renews nor inspects permits.
//
// # Learning
//
// Release reports how the attempt went ([Feedback]); an adaptive limiter
// learns the limit from it, a fixed one ignores it. Implementations should
// read it this way:
//   - [transport.RateLimited]: the limit is exceeded; decrease, but at most
//     once per round trip: a 429 for a request admitted before the last
//     decrease ([Feedback].Admitted earlier than it) belongs to a burst
//     already answered and is not a new signal;
//   - [transport.OK] while the limiter was saturated (in flight near the
//     limit, or requests queued) and with no [Feedback].ScheduleWait: the
//     limit may be higher; increase;
//   - a positive [Feedback].ScheduleWait: the server queued the request
//     before serving it, so the platform is full; never increase on it;
//   - [transport.Canceled], [transport.ClientError],
//     [transport.PaymentRequired]: say nothing about the limit;
//   - [transport.Overloaded], [transport.ServerError], [transport.Timeout],
//     [transport.NetworkError]: the platform is struggling, not the account's
//     limit; do not increase on them.
//
// Release comes when the body is done, which for a streamed answer can be
// minutes after the response started. A permit that implements [Responder]
// also hears of the response as soon as its headers are in, so that it can
// learn then what does not wait for the body.
//
// A limiter whose limit is shared applies a decrease learned by any process
// to all of them, and agrees on increases so that N processes do not each
// add their own.
type Limiter interface {
	// Acquire waits for a permit for one request with the given key and
	// priority; see the type's documentation for the errors and the
	// queueing order.
	Acquire(ctx context.Context, key string, p transport.Priority) (Permit, error)

	// Each calls fn once for every key with state: its current limit, the
	// number of permits held, and the number of requests waiting (as far as
	// the limiter knows them; a shared limiter reports the shared counts).
	// fn must not call back into the limiter. The snapshot of one key is
	// consistent; different keys may be read at different instants.
	Each(fn func(key string, s KeyStats))
}

// Permit stands for one request admitted by a [Limiter]. The gate calls
// Release exactly once, when the request is over (see [Limiter]).
type Permit interface {
	// Release returns the permit and reports how the request went.
	Release(fb Feedback)
}

// A Responder is a [Permit] that learns from an attempt's response as soon
// as its headers are in. When the transport under the gate returns a
// response, the gate calls Responded once, with the attempt's [Feedback],
// before it hands the response on; it calls Release with the same Feedback
// when the body is done, and nothing else of the Feedback changes between
// the two. The in-process and the Redis limiters' permits implement it: a
// response that waited to be scheduled undoes, when it starts, the raises
// made while it waited, and not the ones made while its stream was read.
type Responder interface {
	Permit
	Responded(fb Feedback)
}

// Feedback is what the gate reports when it releases a [Permit]: how one
// attempt went, measured on the gate's clock. For a permit taken through
// [Gate.Acquire] only Outcome is set: that path reads no clock, and the
// durations and Admitted are zero.
type Feedback struct {
	// Outcome is how the attempt ended: [transport.Classify] of what the
	// transport under the gate returned; [transport.OK] also when the body
	// later failed or was closed early (the server admitted the request,
	// which is what the limit is about); the outcome the caller passed to
	// the release function returned by [Gate.Acquire].
	Outcome transport.Outcome

	// Admitted is when the permit was granted: when Acquire returned it,
	// or, for a permit the in-process limiter granted without queueing,
	// when Acquire was called. Release is called when the attempt is over,
	// so a limiter that wants the time the permit was held reads its own
	// clock there.
	Admitted time.Time

	// Latency is how long the transport under the gate took to return: from
	// admission to the response headers (or the error). For a streamed
	// answer it is the time to first byte, not the length of the stream.
	Latency time.Duration

	// ScheduleWait is how long the server held this attempt open before
	// serving it (keep-alive bytes before the first real byte), as the
	// response body reports it (a ScheduleWait() time.Duration method; the keepalive
	// layer under the gate makes bodies that do).
	// Positive means the server queued the request: the platform is full
	// ([Feedback.Busy]). The keepalive layer reports a wait only when
	// keep-alives repeated: one newline or comment before the answer is
	// padding, not a queue.
	ScheduleWait time.Duration
}

// Busy reports whether fb says the platform is full: a 503 (or 529), or
// a success that waited to be scheduled.
func (fb Feedback) Busy() bool {
	return fb.Outcome == transport.Overloaded || fb.Outcome == transport.OK && fb.ScheduleWait > 0
}

// KeyStats is the state of one key of a [Limiter].
type KeyStats struct {
	// Limit is the current limit on requests in flight.
	Limit int
	// InFlight is the number of permits held.
	InFlight int
	// Queued is the number of requests waiting for a permit.
	Queued int
}
