package retry

import (
	"net/http"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// Defaults used for the zero fields of a [Config].
const (
	DefaultMaxAttempts      = 4
	DefaultBaseDelay        = 500 * time.Millisecond
	DefaultMaxDelay         = 30 * time.Second
	DefaultMaxRetryAfter    = 2 * time.Minute
	DefaultBudgetRatio      = 1.0
	DefaultBudgetMinRetries = 10
	DefaultBudgetWindow     = 10 * time.Second
)

// Config configures a [Retrier]. The zero value, Config{}, gives the
// documented defaults for every field.
type Config struct {
	// MaxAttempts is the most attempts made for one request, the first
	// included. Zero means [DefaultMaxAttempts] (4); 1 or a negative value
	// means no retries.
	MaxAttempts int

	// BaseDelay and MaxDelay shape the backoff used when the server gives no
	// hint: the n-th retry (n = 0, 1, ...) waits a random duration in
	// [0, min(MaxDelay, BaseDelay·2^n)). Zero means [DefaultBaseDelay]
	// (500ms) and [DefaultMaxDelay] (30s).
	BaseDelay time.Duration
	MaxDelay  time.Duration

	// RateLimitedBaseDelay, when positive, replaces BaseDelay in the backoff
	// after a 429 that carries no server hint. Zero means BaseDelay. A
	// concurrency gate under the retry layer paces rate-limited requests
	// itself: it lowers its limit on the 429, and the retried request waits
	// in the gate's queue, so a long sleep on top only adds latency. The
	// recommended stack (pacer.New) sets a short one for that reason.
	RateLimitedBaseDelay time.Duration

	// MaxRetryAfter is the longest server-requested delay that is obeyed. A
	// response asking for more is returned to the caller at once, without
	// sleeping, and so is one whose delay would end after the request's
	// context deadline. Zero means [DefaultMaxRetryAfter] (two minutes):
	// the reset of a per-minute window (OpenAI's, Anthropic's, whose token
	// windows' hints run past 60 s) is always within it, and it is the most
	// openai-go itself waits. A caller that cannot wait that long says so
	// with its context's deadline.
	MaxRetryAfter time.Duration

	// BudgetRatio, BudgetMinRetries and BudgetWindow bound the retries made
	// through one Retrier: within any BudgetWindow, the retries may not exceed
	// BudgetMinRetries + BudgetRatio × the requests that came in. When the
	// budget is spent, the last response (or error) is returned as it is.
	// Zero values mean [DefaultBudgetRatio] (1: retries at most double
	// the requests sent), [DefaultBudgetMinRetries] (10) and
	// [DefaultBudgetWindow] (10s). A negative BudgetRatio disables the
	// budget; a negative BudgetMinRetries means no floor.
	//
	// The ratio is set to ride out a passing overload: against a limit of
	// 16 with half the requests getting 503 during one second of every
	// three, a ratio of 0.2 gave up on 6 % of the requests and 1 on under
	// 0.5 %, at the same goodput (BenchmarkOverload in the benchmarks
	// module). In a long outage the breaker, not the budget, keeps the load
	// down (0.04 attempts per request in that benchmark); without a
	// breaker the budget bounds it to twice the requests.
	BudgetRatio      float64
	BudgetMinRetries int
	BudgetWindow     time.Duration

	// MaxReplayBuffer is how many bytes of a request body without GetBody
	// are buffered so that it can be sent again; bodies with GetBody (what
	// [http.NewRequest] sets for in-memory bodies, and what SDKs send) need
	// no buffer. A longer body is sent once and never retried. Zero means
	// 4 MiB; a negative value buffers nothing.
	MaxReplayBuffer int64

	// ShouldRetry, when set, replaces [DefaultShouldRetry] as the decision
	// whether an attempt is worth retrying. It sees the attempt's outcome and
	// exactly one of its response or error, must not read or close the
	// response body, and must be safe for concurrent use. Backoff, hints,
	// MaxAttempts, the budget and the deadline still apply.
	ShouldRetry func(outcome transport.Outcome, resp *http.Response, err error) bool

	// OnRetry, when set, is called synchronously with each decision taken
	// after an attempt that ShouldRetry found retryable: whether the request
	// is retried, and if not, why. It must be fast and safe for concurrent
	// use, and must not read or close the response body.
	OnRetry func(Event)
}
