package concurrency

import (
	"fmt"
	"time"

	"github.com/pacerhttp/pacer/internal/sentinel"
	"github.com/pacerhttp/pacer/transport"
)

// ErrQueueFull is returned (wrapped in a [*QueueError]) when a request finds
// the gate full and its key's queue already holding [Limits].MaxQueue
// waiting requests. The request was not sent; shed it, or raise MaxQueue.
// It matches [transport.ErrRejected], also when a custom [Limiter] returns
// it bare.
var ErrQueueFull = sentinel.New("concurrency: queue full", transport.ErrRejected)

// ErrQueueTimeout is returned (wrapped in a [*QueueError]) when a request
// waited [Limits].QueueTimeout in the queue without being admitted. The
// request was not sent; shed it, or raise QueueTimeout. It matches
// [transport.ErrRejected], also when a custom [Limiter] returns it bare.
var ErrQueueTimeout = sentinel.New("concurrency: queue timeout", transport.ErrRejected)

// QueueError is the error of a request that left the gate's queue without
// a permit: a queue limit shed it, or (through [Gate.Wrap]) its context
// ended while it waited. errors.Is(err, [ErrQueueFull]), errors.Is(err,
// [ErrQueueTimeout]) or errors.Is(err, context.Canceled) tells which;
// errors.As gives the numbers. It also matches [transport.ErrRejected]: the
// request was not sent, so [transport.Classify] reports it as
// [transport.Rejected], which the retry layer does not retry and the
// breaker does not count: a deadline that passes in the local queue says
// nothing of the server.
type QueueError struct {
	// Err is [ErrQueueFull], [ErrQueueTimeout], or the context's error.
	Err error
	// Key is the gate key whose queue it was.
	Key string
	// MaxQueue is the queue bound in force ([ErrQueueFull]).
	MaxQueue int
	// Timeout is the wait bound in force ([ErrQueueTimeout]).
	Timeout time.Duration
}

// Error says which limit was hit, for which key.
func (e *QueueError) Error() string {
	switch e.Err {
	case ErrQueueFull:
		return fmt.Sprintf("concurrency: queue full for key %q: %d waiting (MaxQueue)", e.Key, e.MaxQueue)
	case ErrQueueTimeout:
		return fmt.Sprintf("concurrency: queue timeout for key %q: no permit within %v (QueueTimeout)", e.Key, e.Timeout)
	}
	return fmt.Sprintf("concurrency: key %q: %v", e.Key, e.Err)
}

// Unwrap returns Err and [transport.ErrRejected].
func (e *QueueError) Unwrap() []error { return []error{e.Err, transport.ErrRejected} }
