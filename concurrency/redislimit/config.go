package redislimit

import (
	"time"

	"github.com/pacerhttp/pacer/concurrency"
)

// Defaults applied by [New] to a zero [Config]. The limit bounds default to
// the gate's own, applied by [concurrency.Limits.WithDefaults].
const (
	// DefaultPrefix begins the name of every Redis key and channel.
	DefaultPrefix = "pacer:"
	// DefaultTTL is the lease time to live: a permit held by a process
	// that stops renewing it (it crashed, or lost Redis) is free again
	// within DefaultTTL. Leases are renewed every TTL/3.
	DefaultTTL = 10 * time.Second
	// DefaultTimeout bounds every Redis call.
	DefaultTimeout = time.Second
	// DefaultRecheck is the mean interval at which waiting requests look
	// at the shared queue even without a release notice (notices can be
	// lost; a crashed holder sends none). Each interval is jittered.
	DefaultRecheck = 250 * time.Millisecond
	// DefaultProbeInterval is how often an unreachable Redis is probed.
	DefaultProbeInterval = time.Second
	// DefaultStateTTL is how long the learned limit of an idle key is
	// kept.
	DefaultStateTTL = 24 * time.Hour
	// DefaultFallbackLimit is the per-process, per-key fixed limit used
	// while Redis is unreachable.
	DefaultFallbackLimit = 4
)

// Config configures a [Limiter]. The zero value is an adaptive limit shared
// through keys beginning with [DefaultPrefix], with the gate's default
// [concurrency.Limits], leases of [DefaultTTL], Redis calls bounded by
// [DefaultTimeout], and a local fallback of [DefaultFallbackLimit] per key
// while Redis is unreachable.
//
// Every process sharing a limit must use the same Prefix and should use
// the same Limits and TTL: each call applies the calling process's.
type Config struct {
	// Prefix begins every key and channel name; processes with the same
	// Prefix and gate key share a limit. Empty means [DefaultPrefix].
	Prefix string

	// Limits bounds the shared limit as it bounds the gate's own, across
	// all processes: a positive Limit caps the requests per key in flight
	// in all of them, MaxQueue bounds the requests waiting per key over
	// all of them, and InitialLimit is where a key that Redis does not
	// know yet starts. The cold start belongs to the key in Redis: it
	// runs once, from when Redis first sees the key until its first 429
	// or sign of a full platform.
	concurrency.Limits

	// TTL is the lease time to live; zero means [DefaultTTL]. A process
	// renews its leases and tickets every TTL/3, so a crashed process's
	// permits and place in the queue are free within TTL.
	TTL time.Duration

	// Timeout bounds every Redis call; zero means [DefaultTimeout]. The
	// bound is a context deadline, which go-redis honours only when the
	// client has ContextTimeoutEnabled set; otherwise the client's own
	// DialTimeout, ReadTimeout and WriteTimeout bound the calls.
	Timeout time.Duration

	// Recheck is the mean interval of the safety-net look at the queue by
	// a process with waiting requests (jittered between half and one and a
	// half times it); zero means [DefaultRecheck]. Releases are announced
	// by pub/sub, so waiting normally ends at once.
	Recheck time.Duration

	// ProbeInterval is how often Redis is probed while unreachable; zero
	// means [DefaultProbeInterval].
	ProbeInterval time.Duration

	// StateTTL is how long Redis keeps the learned limit of a key nobody
	// uses; zero means [DefaultStateTTL].
	StateTTL time.Duration

	// FallbackLimit is what happens while Redis is unreachable. Positive:
	// each process falls back to a fixed local limit of FallbackLimit per
	// key. Zero: the same with [DefaultFallbackLimit]. Negative: fail
	// closed; Acquire returns an error wrapping [ErrUnavailable].
	FallbackLimit int

	// OnStateChange, when set, is called once per transition: with
	// [Unavailable] and the error when Redis stops answering, with
	// [Available] and nil when it answers again. Calls are serialized; it
	// must not block.
	OnStateChange func(s State, err error)

	// OnError, when set, is called with every Redis call that failed with
	// an error reply rather than for want of a connection (a script error,
	// a wrong type at one of the limiter's keys, a permission denied),
	// including those of releases and renewals, which no caller sees. Such
	// errors mean a misconfiguration, not an outage. It must not block.
	OnError func(err error)

	// OnLimit, when set, is called with the key and the new limit each
	// time this process sees the shared limit change (in any process). It
	// must not block.
	OnLimit func(key string, limit int)
}

// config is a Config with its defaults applied.
type config struct {
	Config
	maxQueue int // MaxQueue, or 0 for no queue
}

func (c Config) resolve() config {
	c.Limits = c.Limits.WithDefaults()
	r := config{Config: c, maxQueue: max(c.MaxQueue, 0)}
	if r.Prefix == "" {
		r.Prefix = DefaultPrefix
	}
	if r.TTL <= 0 {
		r.TTL = DefaultTTL
	}
	if r.Timeout <= 0 {
		r.Timeout = DefaultTimeout
	}
	if r.Recheck <= 0 {
		r.Recheck = DefaultRecheck
	}
	if r.ProbeInterval <= 0 {
		r.ProbeInterval = DefaultProbeInterval
	}
	if r.StateTTL <= 0 {
		r.StateTTL = DefaultStateTTL
	}
	if r.FallbackLimit == 0 {
		r.FallbackLimit = DefaultFallbackLimit
	}
	return r
}
