package breaker

import "github.com/failsafe-go/failsafe-go/circuitbreaker"

// State is the state of one circuit.
type State int8

// The states of a circuit.
const (
	// Closed lets every request through and counts failures.
	Closed State = iota
	// Open fails requests fast (or sends them to the fallback) until the
	// delay has passed.
	Open
	// HalfOpen admits a bounded number of probe requests; their outcome
	// closes or re-opens the circuit.
	HalfOpen
)

// String returns "closed", "open" or "half-open", the values written to
// [transport.Facts.BreakerState].
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	default:
		return "unknown"
	}
}

// severity orders states for [Breaker.State]: open is worse than half-open,
// which is worse than closed.
func (s State) severity() int {
	switch s {
	case Open:
		return 2
	case HalfOpen:
		return 1
	default:
		return 0
	}
}

func fromFailsafe(s circuitbreaker.State) State {
	switch s {
	case circuitbreaker.OpenState:
		return Open
	case circuitbreaker.HalfOpenState:
		return HalfOpen
	default:
		return Closed
	}
}
