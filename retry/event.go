package retry

import (
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// Decision is what the Retrier decided after a retryable attempt.
type Decision uint8

// The decisions passed to [Config.OnRetry].
const (
	// Retrying: the attempt's response is discarded and the request is sent
	// again after Event.Delay.
	Retrying Decision = iota
	// Exhausted: MaxAttempts attempts were made.
	Exhausted
	// BudgetSpent: the retry budget allows no more retries for now.
	BudgetSpent
	// HintTooLong: the server asked for a delay beyond MaxRetryAfter.
	HintTooLong
	// PastDeadline: the delay would end after the context's deadline.
	PastDeadline
	// NotReplayable: the request body cannot be sent again.
	NotReplayable
	// ContextDone: the request's context was already done.
	ContextDone
)

var decisionNames = [...]string{
	Retrying:      "retrying",
	Exhausted:     "exhausted",
	BudgetSpent:   "budget_spent",
	HintTooLong:   "hint_too_long",
	PastDeadline:  "past_deadline",
	NotReplayable: "not_replayable",
	ContextDone:   "context_done",
}

// String returns the decision's name in snake case ("budget_spent").
func (d Decision) String() string {
	if int(d) < len(decisionNames) {
		return decisionNames[d]
	}
	return "unknown"
}

// Event describes one decision, as [Config.OnRetry] sees it.
type Event struct {
	// Attempt is the number of the attempt that just ended (1 for the first).
	Attempt int
	// Outcome is how it ended; StatusCode is its response's status (0 when
	// it ended in Err).
	Outcome    transport.Outcome
	StatusCode int
	Err        error
	// Decision says whether the request is retried, and if not, why.
	Decision Decision
	// Delay is the sleep before the next attempt (jitter included), or the
	// sleep that was wanted when the decision is not [Retrying].
	Delay time.Duration
	// RetryAfter is the delay the server asked for, and HasRetryAfter
	// whether it asked at all.
	RetryAfter    time.Duration
	HasRetryAfter bool
}
