package keepalive

import (
	"fmt"
	"io"
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

// ErrStalled reports that a response stopped: after its first real byte,
// a Read waited [Config.IdleTimeout] for real content while at most
// keep-alives came, and the filter closed the connection. It matches
// [io.ErrUnexpectedEOF], the error of a response cut short, so
// [transport.Classify] reports it as [transport.NetworkError]. The body's
// Read returns it bare once the caller has been given content; when the
// stream stopped before its first event, so that nothing reached the
// caller, RoundTrip returns it inside a [*WaitError], which also matches
// [transport.ErrNoResponse] and may be retried.
var ErrStalled = sentinel.New(
	"keepalive: the response stopped sending content (Config.IdleTimeout passed)",
	io.ErrUnexpectedEOF)

// WaitError is the error RoundTrip returns when the wait for the first byte
// of real content (for a stream, its first event) fails. errors.Is matches
// its Err ([ErrClosedWhileWaiting], [ErrWaitTimeout] or [ErrStalled]),
// [transport.ErrNoResponse], since nothing of the response reached the
// caller, and its Cause.
type WaitError struct {
	// Err is ErrClosedWhileWaiting, ErrWaitTimeout or ErrStalled.
	Err error
	// Cause is the read error that ended the wait (io.ErrUnexpectedEOF, a
	// connection reset, io.EOF after keep-alives only, the error of the
	// connection the idle deadline closed), or nil for a timeout.
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

// Unwrap returns Err, [transport.ErrNoResponse] and Cause.
func (e *WaitError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err, transport.ErrNoResponse}
	}
	return []error{e.Err, transport.ErrNoResponse, e.Cause}
}
