package transport

import "context"

// Priority orders requests that wait for the same resource: the gate admits
// a waiting Interactive request before any waiting Background one, and the
// breaker sheds Background work first. The zero value is [Interactive].
type Priority int8

const (
	// Interactive is for a person waiting on the answer. It is the default.
	Interactive Priority = 0
	// Background is for batch work that can wait: indexing, evaluation,
	// summarisation jobs.
	Background Priority = 1
)

// String returns "interactive" or "background".
func (p Priority) String() string {
	switch p {
	case Interactive:
		return "interactive"
	case Background:
		return "background"
	default:
		return "unknown"
	}
}

type priorityKey struct{}

// WithPriority returns a copy of ctx that carries p.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityFrom returns the priority carried by ctx, or [Interactive] when it
// carries none.
func PriorityFrom(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok {
		return p
	}
	return Interactive
}
