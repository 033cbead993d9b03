package concurrency

import (
	"net/http"
	"time"
)

// Defaults applied by [New] and [NewLimiter] to a zero [Config].
const (
	// DefaultInitialLimit is where an adaptive limit starts: low, as
	// rate-limited APIs ask new clients to start. While requests wait and
	// no 429 has come, it grows by up to [DefaultMaxGrowth] per round trip
	// and 16 levels per probe gap (see [Config].MaxGrowth), so a cold gate
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

// Config configures a [Gate] and the in-process [Limiter] it uses by
// default. The zero value is an adaptive gate keyed by host and model
// ([ModelKey]) that starts at
// [DefaultInitialLimit], stays within [DefaultMinLimit] and
// [DefaultMaxLimit], queues up to [DefaultMaxQueue] requests per key, and
// bounds a wait only by the request's context.
type Config struct {
	// Key maps a request to the key whose limit it counts against. Nil
	// means [ModelKey]: the host and the model the JSON body names.
	// [HostKey] keys by host alone, [UserKey] adds the end user; key by API
	// key, for example, when several accounts share a host. It must be
	// cheap and must not read req.Body (a copy from req.GetBody may be
	// read). The key is reported in Stats, in the request's
	// [transport.Facts] and so in telemetry: return a digest or a name for a
	// secret, never the secret itself.
	Key func(*http.Request) string

	// Limit, when positive, makes the gate fixed: at most Limit requests
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

	// Limiter, when set, replaces the in-process limiter: admission, the
	// queue and the limit state are its business (a limit shared by many
	// processes, for example), and Limit, InitialLimit, MinLimit,
	// MaxLimit, MaxQueue and QueueTimeout are ignored by the gate. The
	// gate does not close it.
	Limiter Limiter

	// OnLimit, when set, is called with the key and the new limit each time
	// an adaptive limit changes, from the goroutine that released the
	// permit that changed it, outside any lock. It must not block.
	OnLimit func(key string, limit int)
}
