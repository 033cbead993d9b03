package concurrency

import "time"

// Defaults applied by [Limits.WithDefaults], and so by [New] and
// [NewLimiter] to a zero [Config].
const (
	// DefaultInitialLimit is where an adaptive limit starts: low, as
	// rate-limited APIs ask new clients to start. While requests wait and
	// no 429 has come, it grows by up to [DefaultMaxGrowth] per round trip
	// and 16 levels per probe gap (see [Limits].MaxGrowth), so a cold gate
	// reaches a limit L in about log2(L/4) round trips and a few more.
	DefaultInitialLimit = 4
	// DefaultMinLimit is the floor of an adaptive limit.
	DefaultMinLimit = 1
	// DefaultMaxLimit is the ceiling of an adaptive limit: far above the
	// largest per-model concurrency limits providers publish (DeepSeek's
	// is 2500), so that the server's 429s, not the ceiling, find the
	// limit. It costs nothing until requests are in flight.
	DefaultMaxLimit = 10000
	// DefaultMaxQueue is how many requests may wait per key.
	DefaultMaxQueue = 4096
	// DefaultMaxGrowth is the cold start's default growth per round trip:
	// doubling, as TCP's slow start. A server that answers an excess at
	// once with a 429 (DeepSeek's concurrency limit) is found within a
	// round trip of the first 429, and the gate's bound on raises per
	// probe gap keeps the overshoot to a few 429s.
	DefaultMaxGrowth = 2.0
)

// Limits are the bounds of a limit on requests in flight per key: fixed or
// adaptive, and how many requests may wait and for how long. They are read
// by the in-process [Limiter] ([NewLimiter]) and by any Limiter that follows
// the same rules, such as the Redis limiter in package redislimit. The zero
// value is an adaptive limit with the defaults: it starts at
// [DefaultInitialLimit], stays within [DefaultMinLimit] and
// [DefaultMaxLimit], grows by up to [DefaultMaxGrowth] per round trip
// during its cold start, queues up to [DefaultMaxQueue] requests per key,
// and bounds a wait only by the request's context.
type Limits struct {
	// Limit, when positive, makes the limit fixed: at most Limit requests
	// per key in flight, whatever the responses say. Zero means adaptive.
	Limit int

	// InitialLimit, MinLimit and MaxLimit bound an adaptive limit; zero
	// means the default. The limit starts at InitialLimit (clamped into
	// [MinLimit, MaxLimit]) for each new key.
	InitialLimit int
	MinLimit     int
	MaxLimit     int

	// MaxGrowth caps the fast cold start of an adaptive limit: until the
	// first 429 or sign of a full platform, probes are blocks of levels
	// sized so that the limit grows by at most MaxGrowth per round trip
	// (the time a permit is held), and by at most 16 levels per probe gap.
	// Zero means [DefaultMaxGrowth]; 1 or less turns the fast start off,
	// leaving the probes that follow it, each a level, or twice the one
	// before when that fitted. Lower it (1.25, say) for an API that
	// punishes fast ramps, as Anthropic's "acceleration limits" do.
	MaxGrowth float64

	// MaxQueue is how many requests may wait per key when its limit is
	// reached; one more fails at once with [ErrQueueFull]. Zero means
	// [DefaultMaxQueue]; negative means no queue at all (a request that
	// finds the key full fails at once).
	MaxQueue int

	// QueueTimeout bounds how long a request waits for a permit before it
	// fails with [ErrQueueTimeout]. Zero means no bound other than the
	// request's context.
	QueueTimeout time.Duration
}

// WithDefaults returns l with every default applied: a zero or negative
// InitialLimit, MinLimit or MaxLimit becomes [DefaultInitialLimit],
// [DefaultMinLimit] or [DefaultMaxLimit]; MaxLimit is then raised to
// MinLimit if below it; a zero MaxGrowth becomes [DefaultMaxGrowth] and a
// zero MaxQueue [DefaultMaxQueue], while a negative MaxQueue stays negative
// (no queue); a negative Limit or QueueTimeout becomes zero. Every other
// value is kept; InitialLimit is not clamped into [MinLimit, MaxLimit],
// which the limiter does.
func (l Limits) WithDefaults() Limits {
	l.Limit = max(l.Limit, 0)
	if l.InitialLimit <= 0 {
		l.InitialLimit = DefaultInitialLimit
	}
	if l.MinLimit <= 0 {
		l.MinLimit = DefaultMinLimit
	}
	if l.MaxLimit <= 0 {
		l.MaxLimit = DefaultMaxLimit
	}
	l.MaxLimit = max(l.MaxLimit, l.MinLimit)
	if l.MaxGrowth == 0 {
		l.MaxGrowth = DefaultMaxGrowth
	}
	if l.MaxQueue == 0 {
		l.MaxQueue = DefaultMaxQueue
	}
	l.QueueTimeout = max(l.QueueTimeout, 0)
	return l
}
