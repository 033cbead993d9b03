package breaker

import (
	"fmt"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"

	"github.com/pacerhttp/pacer/transport"
)

// ErrOpen is the condition behind every request the breaker refuses: the
// circuit for the request's key is open, or half-open with all its probes in
// flight. It wraps failsafe-go's [circuitbreaker.ErrOpen], so errors.Is
// matches either, and [transport.ErrRejected], so the retry layer does not
// retry it. Wait for the delay, or set [Config.Fallback].
var ErrOpen error = errOpen{}

type errOpen struct{}

func (errOpen) Error() string {
	return "breaker: circuit open, the server is failing; wait for the breaker's delay or set Config.Fallback"
}

func (errOpen) Unwrap() []error { return []error{circuitbreaker.ErrOpen, transport.ErrRejected} }

// OpenError is the error returned for a refused request. It carries the
// circuit's key and state and how long until the circuit half-opens.
// errors.Is(err, [ErrOpen]) and errors.Is(err, circuitbreaker.ErrOpen) both
// hold for it.
type OpenError struct {
	// Key is the circuit's key (by default the request's host).
	Key string
	// State is [Open], or [HalfOpen] when every probe permit is taken.
	State State
	// Remaining is how long until the circuit half-opens and admits probes:
	// zero when it is half-open already or its delay has just passed.
	Remaining time.Duration
}

func (e *OpenError) Error() string {
	if e.State == HalfOpen {
		return fmt.Sprintf("breaker: circuit %q half-open and its probes are in flight; wait for them or set Config.Fallback", e.Key)
	}
	return fmt.Sprintf("breaker: circuit %q open, the server is failing; half-open in %v, or set Config.Fallback", e.Key, e.Remaining)
}

// Unwrap returns [ErrOpen].
func (e *OpenError) Unwrap() error { return ErrOpen }
