package quota

import (
	"fmt"
	"time"

	"github.com/pacerhttp/pacer/internal/sentinel"
	"github.com/pacerhttp/pacer/transport"
)

// ErrQueueFull is returned (wrapped in a [*WaitError]) when a request does
// not fit its key's remaining budget and [Config].MaxQueue requests already
// wait for that key. The request was not sent: shed it, or raise MaxQueue.
// It matches [transport.ErrRejected].
var ErrQueueFull = sentinel.New("quota: queue full", transport.ErrRejected)

// ErrQueueTimeout is returned (wrapped in a [*WaitError]) when a request
// waited [Config].QueueTimeout for its key's window to reset. The request
// was not sent: shed it, or raise QueueTimeout. It matches
// [transport.ErrRejected].
var ErrQueueTimeout = sentinel.New("quota: queue timeout", transport.ErrRejected)

// ErrWaitCanceled is returned (wrapped in a [*WaitError], beside the
// context's error) when a request's context ended while it waited for its
// key's window to reset. The request was not sent. It matches
// [transport.ErrRejected].
var ErrWaitCanceled = sentinel.New("quota: wait canceled", transport.ErrRejected)

// WaitError tells why a request was refused before it was sent.
// errors.Is(err, [ErrQueueFull]), [ErrQueueTimeout] or [ErrWaitCanceled]
// tells the cases apart, and errors.Is(err, [transport.ErrRejected]) holds
// for all of them, so the retry layer does not retry them and the breaker
// does not count them. For a canceled wait, errors.Is also matches the
// context's error ([context.Canceled] or [context.DeadlineExceeded]).
type WaitError struct {
	// Err is ErrQueueFull, ErrQueueTimeout or ErrWaitCanceled.
	Err error
	// Cause is the context's error for ErrWaitCanceled, else nil.
	Cause error
	// Key is the budget's key.
	Key string
	// Waited is how long the request waited.
	Waited time.Duration
}

// Error states what happened, for which key.
func (e *WaitError) Error() string {
	switch {
	case e.Cause != nil:
		return fmt.Sprintf("%v for key %q after %v: %v", e.Err, e.Key, e.Waited, e.Cause)
	case e.Waited > 0:
		return fmt.Sprintf("%v for key %q after %v", e.Err, e.Key, e.Waited)
	}
	return fmt.Sprintf("%v for key %q", e.Err, e.Key)
}

// Unwrap returns Err, and Cause when there is one.
func (e *WaitError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}
