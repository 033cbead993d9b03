package redislimit

import (
	"context"
	"errors"
	"fmt"

	"github.com/pacerhttp/pacer/internal/sentinel"
	"github.com/pacerhttp/pacer/transport"
)

// ErrUnavailable is returned (wrapped in an [*UnavailableError]) by Acquire
// when Redis cannot be reached and the limiter is configured to fail
// closed ([Config].FallbackLimit negative). The request was not sent; the
// limiter probes Redis and admits again as soon as it answers.
var ErrUnavailable = errors.New("redislimit: redis unreachable and the limiter fails closed; the request was not sent")

// ErrClosed is returned by Acquire after [Limiter.Close]. The request was
// not sent: it matches [transport.ErrRejected], so the retry layer does not
// send it again and the breaker does not count it.
var ErrClosed = sentinel.New("redislimit: limiter closed", transport.ErrRejected)

// UnavailableError tells which key was refused while Redis was unreachable,
// and why Redis was deemed so. errors.Is(err, [ErrUnavailable]) is true,
// and so is errors.Is(err, [transport.ErrRejected]): the request was
// refused before it was sent, which the retry layer does not retry.
type UnavailableError struct {
	// Key is the gate key of the refused request.
	Key string
	// Cause is the error of the Redis call that failed.
	Cause error
}

// Error says what was refused and why.
func (e *UnavailableError) Error() string {
	return fmt.Sprintf("redislimit: key %q: redis unreachable (%v) and the limiter fails closed; the request was not sent", e.Key, e.Cause)
}

// Unwrap returns [ErrUnavailable], [transport.ErrRejected] and the cause,
// unless the cause is a context's error: that is the deadline the limiter
// gives its own Redis calls, not the request's, and a request without a
// deadline must not seem to have passed one.
func (e *UnavailableError) Unwrap() []error {
	errs := []error{ErrUnavailable, transport.ErrRejected}
	if e.Cause != nil && !errors.Is(e.Cause, context.DeadlineExceeded) && !errors.Is(e.Cause, context.Canceled) {
		errs = append(errs, e.Cause)
	}
	return errs
}

// State is whether a [Limiter] reaches Redis.
type State int32

const (
	// Available means the limit is shared through Redis.
	Available State = iota
	// Unavailable means Redis does not answer: requests go to the local
	// fallback, or fail with [ErrUnavailable].
	Unavailable
)

// String returns "available" or "unavailable".
func (s State) String() string {
	if s == Unavailable {
		return "unavailable"
	}
	return "available"
}

// errUnexpectedReply is a script reply of the wrong shape: the keys are
// used by something else, or processes of different versions share them.
var errUnexpectedReply = errors.New("redislimit: unexpected script reply")

// CallError is a Redis call that failed with an error reply, not for want
// of a connection: a script error, a wrong type at one of the limiter's
// keys, a permission denied. It is returned by Acquire and says which call
// and key. The request was not sent: it matches [transport.ErrRejected].
type CallError struct {
	// Op is the call: "acquire".
	Op string
	// Key is the gate key.
	Key string
	// Err is the Redis error.
	Err error
}

// Error says which call failed for which key, and why.
func (e *CallError) Error() string {
	return fmt.Sprintf("redislimit: %s for key %q failed: %v", e.Op, e.Key, e.Err)
}

// Unwrap returns Err and [transport.ErrRejected].
func (e *CallError) Unwrap() []error { return []error{e.Err, transport.ErrRejected} }
