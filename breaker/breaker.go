package breaker

import (
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/transport"
)

// Breaker is a set of circuit breakers, one per key (by default the
// request's host), built on failsafe-go's circuitbreaker. Create it with
// [New], share it among every client that talks to the same providers, and
// put it in a stack with [Breaker.Wrap]. It is safe for concurrent use.
type Breaker struct {
	cfg Config
	// now is the clock: time.Now, replaced by tests.
	now func() time.Time

	mu       sync.RWMutex
	circuits map[string]*circuit
	last     atomic.Pointer[circuit] // the circuit used last: most stacks talk to one host
}

// New returns a Breaker configured by cfg; see [Config] for the defaults.
func New(cfg Config) *Breaker {
	return &Breaker{
		cfg:      cfg.withDefaults(),
		now:      time.Now,
		circuits: make(map[string]*circuit),
	}
}

// Wrap returns a transport that sends each request through the circuit of
// its key and then to base (nil means [http.DefaultTransport]). It is a
// [transport.Middleware].
func (b *Breaker) Wrap(base http.RoundTripper) http.RoundTripper {
	return &roundTripper{b: b, base: roundtrip.Base(base)}
}

// State returns the most severe state among the Breaker's circuits: [Open]
// if any key is open, else [HalfOpen] if any is half-open, else [Closed]
// (also when no request has been seen). It answers "is some provider
// failing?"; use [Breaker.StateOf] for one key.
func (b *Breaker) State() State {
	b.mu.RLock()
	defer b.mu.RUnlock()
	worst := Closed
	for _, c := range b.circuits {
		if s := c.state(); s.severity() > worst.severity() {
			worst = s
		}
	}
	return worst
}

// StateOf returns the state of the circuit for key, as [Config.Key] names
// it (by default a host such as "api.deepseek.com"). A key no request has
// used yet is [Closed].
func (b *Breaker) StateOf(key string) State {
	b.mu.RLock()
	c := b.circuits[key]
	b.mu.RUnlock()
	if c == nil {
		return Closed
	}
	return c.state()
}

// EachKey calls fn with the key and the state (as [State.String] names it:
// "closed", "open", "half-open") of every circuit a request has used, in no
// particular order. It is what the telemetry layer reads for its breaker
// gauge. fn is called after the Breaker's lock is released, so it may call
// the Breaker's methods.
func (b *Breaker) EachKey(fn func(key, state string)) {
	b.mu.RLock()
	cs := slices.Collect(maps.Values(b.circuits))
	b.mu.RUnlock()
	for _, c := range cs {
		fn(c.key, c.state().String())
	}
}

// circuit returns the circuit for key, creating it on first use.
func (b *Breaker) circuit(key string) *circuit {
	if c := b.last.Load(); c != nil && c.key == key {
		return c
	}
	b.mu.RLock()
	c := b.circuits[key]
	b.mu.RUnlock()
	if c == nil {
		b.mu.Lock()
		if c = b.circuits[key]; c == nil {
			c = newCircuit(b, key)
			b.circuits[key] = c
		}
		b.mu.Unlock()
	}
	b.last.Store(c)
	return c
}

// verdict maps an attempt's outcome to what it tells the circuit.
func (b *Breaker) verdict(o transport.Outcome) verdict {
	switch o {
	case transport.Overloaded, transport.ServerError, transport.NetworkError, transport.Timeout:
		return failure
	case transport.RateLimited:
		if b.cfg.CountRateLimited {
			return failure
		}
		return success
	case transport.Canceled:
		// Nothing was learned about the server.
		return neutral
	case transport.Rejected:
		// Nothing was sent to it.
		return unsent
	default:
		// Below 400, 402 and other 4xx: the server answered.
		return success
	}
}
