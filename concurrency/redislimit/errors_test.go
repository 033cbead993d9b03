package redislimit_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/pacerhttp/pacer/transport"
)

// TestUnavailableErrorHidesInternalDeadline checks that the deadline of the
// limiter's own Redis call does not make a request without a deadline
// look as if it passed one, while other causes stay visible.
func TestUnavailableErrorHidesInternalDeadline(t *testing.T) {
	timedOut := &redislimit.UnavailableError{Key: "k", Cause: fmt.Errorf("redis call: %w", context.DeadlineExceeded)}
	if errors.Is(timedOut, context.DeadlineExceeded) {
		t.Errorf("%v matches context.DeadlineExceeded", timedOut)
	}
	if !errors.Is(timedOut, redislimit.ErrUnavailable) || !errors.Is(timedOut, transport.ErrRejected) {
		t.Errorf("%v does not match ErrUnavailable and transport.ErrRejected", timedOut)
	}
	refused := &redislimit.UnavailableError{Key: "k", Cause: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}
	var oe *net.OpError
	if !errors.As(refused, &oe) {
		t.Errorf("%v hides its *net.OpError cause", refused)
	}
}
