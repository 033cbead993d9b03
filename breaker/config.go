package breaker

import (
	"net/http"
	"time"

	"github.com/pacerhttp/pacer/internal/reqkey"
)

// Config configures a [Breaker]. The zero value gives the defaults noted on
// each field: a circuit per host that opens when 90% of at least 10
// attempts within a minute fail, stays open 30 seconds, then closes after 3
// successful probes.
type Config struct {
	// FailureRate is the share of failed attempts, within Period, that
	// opens a circuit: 0 < FailureRate <= 1. Zero or out of range means
	// 0.9. The breaker counts attempts, not requests: under the retry
	// layer each attempt passes it. So the default is high: a network that
	// drops half the attempts fails one request in sixteen once four
	// attempts are allowed, which retries serve; an outage or a storm of
	// 503s fails nearly every attempt, which opens the circuit.
	FailureRate float64
	// MinRequests is how many attempts a circuit must have seen within
	// Period before FailureRate is applied, so that two failures out of
	// three do not open it. Zero means 10.
	MinRequests int
	// Period is the rolling window over which failures are counted
	// (failsafe-go slides it in tenths). Zero means one minute.
	Period time.Duration
	// Delay is how long an open circuit refuses requests before it
	// half-opens. Zero means 30 seconds.
	Delay time.Duration
	// Probes is how many requests a half-open circuit admits at once. It
	// closes when that many have succeeded and re-opens on the first failure.
	// A probe canceled by its caller counts as a failure: it proves nothing
	// about recovery, and failsafe-go frees a probe's permit only when a
	// result is recorded. A probe that a layer below refused to send (an
	// error matching [transport.ErrRejected], such as the gate's queue
	// shedding it or its context ending there) counts as nothing, and the
	// next request takes its place. Zero means 3.
	Probes int

	// CountRateLimited makes a 429 count as a failure. By default it does
	// not: 429 says the account is going too fast, which is pacing (the
	// concurrency gate's job), not the server failing.
	CountRateLimited bool

	// Key names the circuit a request belongs to; each key has its own,
	// created on first use and kept for the Breaker's life, so keys must come
	// from a small set (hosts, providers, accounts). Nil means the request's
	// host (URL.Host, else Host), so one provider's outage never opens
	// another's circuit.
	Key func(*http.Request) string

	// Fallback, when set, serves Interactive requests (see
	// [transport.PriorityFrom]) that an open circuit refuses; Background
	// requests are still refused with [ErrOpen]. It receives the caller's
	// request as is and owns its body; [Retarget] builds one that sends the
	// request to another OpenAI-compatible provider.
	Fallback http.RoundTripper

	// OnStateChange, when set, is called after a circuit changes state, in
	// the goroutine whose request caused the change (or the first request to
	// arrive after the delay, for open to half-open). It must not block.
	// Changes of different requests are reported without a shared lock, so
	// under concurrency two reports for one key may arrive out of order; read
	// [Breaker.StateOf] for the current state.
	OnStateChange func(key string, from, to State)
}

const (
	defaultFailureRate = 0.9
	defaultMinRequests = 10
	defaultPeriod      = time.Minute
	defaultDelay       = 30 * time.Second
	defaultProbes      = 3
	// minPeriod keeps failsafe-go's ten buckets at least a nanosecond wide.
	minPeriod = 10 * time.Nanosecond
)

// withDefaults returns cfg with zero and out-of-range fields replaced by
// their defaults.
func (cfg Config) withDefaults() Config {
	if !(cfg.FailureRate > 0 && cfg.FailureRate <= 1) {
		cfg.FailureRate = defaultFailureRate
	}
	if cfg.MinRequests <= 0 {
		cfg.MinRequests = defaultMinRequests
	}
	if cfg.Period <= 0 {
		cfg.Period = defaultPeriod
	}
	cfg.Period = max(cfg.Period, minPeriod)
	if cfg.Delay <= 0 {
		cfg.Delay = defaultDelay
	}
	if cfg.Probes <= 0 {
		cfg.Probes = defaultProbes
	}
	if cfg.Key == nil {
		cfg.Key = reqkey.Host
	}
	return cfg
}
