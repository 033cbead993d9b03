package concurrency

import (
	"context"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// Gate limits the requests in flight per key, queues the rest, and (in
// adaptive mode) learns the limit from the responses. Make one with [New]
// and share it between every client that talks to the same account: its
// state is what keeps them within the account's limit. A Gate is safe for
// concurrent use.
type Gate struct {
	lim Limiter
	key func(*http.Request) string
	// local is lim when it is the gate's own in-process limiter, else nil.
	local *localLimiter

	// now and since are the clock. since(t) is now().Sub(t); the real one
	// reads only the monotonic clock, which costs less than time.Now.
	now   func() time.Time
	since func(time.Time) time.Duration
}

// New returns a Gate configured by cfg; see [Config] for the defaults of a
// zero Config.
func New(cfg Config) *Gate {
	g := &Gate{lim: cfg.Limiter, key: cfg.Key, now: time.Now, since: time.Since}
	if g.lim == nil {
		g.local = newLocal(cfg)
		g.lim = g.local
	}
	if g.key == nil {
		g.key = ModelKey
	}
	return g
}

// Acquire waits for a permit outside HTTP, for work that is not a request
// through [Gate.Wrap] but counts against the same limit: the key is the
// empty string unless ctx carries one from [WithKey], and the priority is
// [transport.PriorityFrom](ctx). On success the caller must call release
// once, when the work is over, with its outcome (a
// [transport.RateLimited] outcome teaches an adaptive gate to slow down,
// [transport.OK] lets it grow); later calls do nothing. On error nothing
// is held: the error is ctx's, or wraps [ErrQueueFull] or
// [ErrQueueTimeout].
func (g *Gate) Acquire(ctx context.Context) (release func(transport.Outcome), err error) {
	var t ticket
	if t.take(g, ctx) {
		return t.release, nil
	}
	return nil, t.err
}

// ticket is a permit taken through [Gate.Acquire]. Acquire is small enough
// to be inlined, so that when the caller's release does not escape, the
// ticket and the release func live on the caller's stack.
type ticket struct {
	pm   Permit
	err  error
	done uint32
}

func (t *ticket) take(g *Gate, ctx context.Context) bool {
	t.pm, t.err = g.lim.Acquire(ctx, keyFrom(ctx), transport.PriorityFrom(ctx))
	return t.err == nil
}

func (t *ticket) release(o transport.Outcome) {
	if atomic.CompareAndSwapUint32(&t.done, 0, 1) {
		t.pm.Release(Feedback{Outcome: o})
	}
}

type keyCtxKey struct{}

// WithKey returns a copy of ctx that carries key, the gate key that
// [Gate.Acquire] uses.
func WithKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyCtxKey{}, key)
}

func keyFrom(ctx context.Context) string {
	k, _ := ctx.Value(keyCtxKey{}).(string)
	return k
}

// Stats is a snapshot of a gate's state.
type Stats struct {
	// Keys holds the state of every key the gate has seen, sorted by key.
	Keys []KeyStat
	// InFlight and Queued are the totals over the keys.
	InFlight, Queued int
}

// KeyStat is the state of one key.
type KeyStat struct {
	Key string
	KeyStats
}

// Key returns the state of key, and whether the gate has seen it.
func (s Stats) Key(key string) (KeyStats, bool) {
	i := sort.Search(len(s.Keys), func(i int) bool { return s.Keys[i].Key >= key })
	if i < len(s.Keys) && s.Keys[i].Key == key {
		return s.Keys[i].KeyStats, true
	}
	return KeyStats{}, false
}

// Stats returns the current limit, the requests in flight and the requests
// queued, per key.
func (g *Gate) Stats() Stats {
	var s Stats
	g.lim.Each(func(key string, ks KeyStats) {
		s.Keys = append(s.Keys, KeyStat{Key: key, KeyStats: ks})
		s.InFlight += ks.InFlight
		s.Queued += ks.Queued
	})
	sort.Slice(s.Keys, func(i, j int) bool { return s.Keys[i].Key < s.Keys[j].Key })
	return s
}

// EachKey calls fn with the current limit, in flight and queued count of
// every key the gate has seen, without allocating; telemetry polls it. fn
// must not call back into the gate.
func (g *Gate) EachKey(fn func(key string, limit, inFlight, queued int)) {
	g.lim.Each(func(key string, ks KeyStats) { fn(key, ks.Limit, ks.InFlight, ks.Queued) })
}
