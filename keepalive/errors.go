package keepalive

import (
	"fmt"
	"os"
	"time"

	"github.com/pacerhttp/pacer/internal/sentinel"
	"github.com/pacerhttp/pacer/transport"
)

// ErrClosedWhileWaiting reports that the connection closed or failed after
// the response headers but before the first byte of real content: the server
// held the request open with keep-alives and then gave up on it, so it was
// never scheduled. Nothing of the response reached the caller, so the error
// also matches [transport.ErrNoResponse]: [transport.Classify] reports it as
// [transport.NetworkError] and a retry layer may send the request again.
var ErrClosedWhileWaiting = sentinel.New(
	"keepalive: connection closed while waiting for the response to start",
	transport.ErrNoResponse)

// ErrWaitTimeout reports that [Config.MaxWait] passed before the first byte
// of real content arrived. It matches [os.ErrDeadlineExceeded], the error of
// an I/O deadline, so [transport.Classify] reports it as [transport.Timeout],
// while errors.Is(err, context.DeadlineExceeded) keeps meaning that the
// caller's own context expired. Nothing of the response reached the caller,
// so it matches [transport.ErrNoResponse] as well; whether a timeout is
// retried is the retry layer's policy.
var ErrWaitTimeout = sentinel.NewTimeout(
	"keepalive: gave up waiting for the response to start (Config.MaxWait passed)",
	transport.ErrNoResponse, os.ErrDeadlineExceeded)

// WaitError is the error RoundTrip returns when the wait for the first byte
// of real content fails. errors.Is matches its Err ([ErrClosedWhileWaiting]
// or [ErrWaitTimeout], and through them [transport.ErrNoResponse]) and its
// Cause.
type WaitError struct {
	// Err is ErrClosedWhileWaiting or ErrWaitTimeout.
	Err error
	// Cause is the read error that ended the wait (io.ErrUnexpectedEOF, a
	// connection reset, io.EOF after keep-alives only), or nil for a timeout.
	Cause error
	// Waited is the time from the response headers to the end of the wait.
	Waited time.Duration
	// KeepAliveBytes is the number of keep-alive bytes consumed.
	KeepAliveBytes int64
}

func (e *WaitError) Error() string {
	msg := fmt.Sprintf("%v (after %v and %d keep-alive bytes)", e.Err, e.Waited, e.KeepAliveBytes)
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Unwrap returns Err and Cause.
func (e *WaitError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}
