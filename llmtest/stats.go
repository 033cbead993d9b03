package llmtest

import "time"

// Stats is a snapshot of a [Server]'s counters, from [Server.Stats].
type Stats struct {
	// Requests counts chat completion requests received, whatever their
	// outcome.
	Requests int64
	// Completed counts answers written in full (status 200).
	Completed int64
	// RateLimited counts 429 answers.
	RateLimited int64
	// Overloaded counts 503 answers (529 for the Anthropic personality).
	Overloaded int64
	// PaymentRequired counts 402 answers.
	PaymentRequired int64
	// QuotaExhausted counts the answers to Config.QuotaExhaustedKey.
	QuotaExhausted int64
	// Unauthorized counts 401 answers.
	Unauthorized int64
	// BadRequest counts 400 (malformed JSON) and 405 answers.
	BadRequest int64
	// ClosedWhileWaiting counts connections the server closed because a
	// scheduling wait exceeded Wait.Max (or WaitThenClose).
	ClosedWhileWaiting int64
	// Faults counts injected faults, random and scripted: resets, cut
	// bodies, slow headers and truncated JSON.
	Faults int64
	// ServerErrors counts scripted 500 answers.
	ServerErrors int64
	// Canceled counts admitted requests whose client went away (or whose
	// server closed) before the answer was complete.
	Canceled int64

	// InFlight, PeakInFlight, Limit and LimitIntegral describe the
	// account limit, which admits the requests of every model without a
	// limit of its own; Models describes the others.

	// InFlight is the number of requests admitted and not yet finished.
	InFlight int
	// PeakInFlight is the highest InFlight seen.
	PeakInFlight int
	// Limit is the current effective limit (after punishment); 0 means
	// unlimited.
	Limit int
	// LimitIntegral is the integral of the effective limit over time since
	// the server started, in request·seconds. Unlimited spans contribute
	// zero, so it is meaningful only when every phase has a limit.
	LimitIntegral float64
	// Elapsed is the time since the server started.
	Elapsed time.Duration
	// Punishments counts the punishments started (a burst of 429s that
	// extends a running punishment starts none), of the account limit and
	// every model's.
	Punishments int
	// Models holds, for each model of [Config.Models], its own requests in
	// flight and limit; nil when there are none.
	Models map[string]ModelStats
}

// ModelStats is the state of one model's limit in [Stats.Models]; the
// fields mean what the same fields of [Stats] mean.
type ModelStats struct {
	InFlight, PeakInFlight, Limit, Punishments int
	LimitIntegral                              float64
}

// MeanLimit returns LimitIntegral divided by elapsed, as [Stats.MeanLimit]
// does.
func (m ModelStats) MeanLimit(elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return m.LimitIntegral / elapsed.Seconds()
}

// MeanLimit returns LimitIntegral divided by Elapsed in seconds: the mean
// effective limit so far, or 0 before any time has passed. Divided by the
// service time it gives the ideal goodput in requests per second. Like
// LimitIntegral it is meaningful only when every phase has a limit.
func (s Stats) MeanLimit() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return s.LimitIntegral / s.Elapsed.Seconds()
}
