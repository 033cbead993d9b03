package redislimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pacerhttp/pacer/concurrency"
)

// Limiter is a [concurrency.Limiter] whose limit, permits and queue live in
// Redis, shared by every process that uses the same [Config].Prefix and
// gate key. Plug it into a gate with [concurrency.Config].Limiter. It is
// safe for concurrent use. Call [Limiter.Close] when done: it stops the
// limiter's three goroutines (lease renewal and health probing, queue
// dispatch, and the release-notice subscriber). The limiter does not close
// the Redis client.
//
// # Permits are leases
//
// Each permit is a lease in a sorted set (lease id → expiry, on the Redis
// server's clock). One goroutine per Limiter renews all the leases and
// queue tickets the process holds every TTL/3, in one call per key, so a
// permit held for a ten-minute stream stays held, and the permits and
// tickets of a process that dies are free within the TTL (and taken by a
// waiter within one re-check interval after that). Admission,
// release and learning are Lua scripts: atomic on the server.
//
// # Waiting
//
// A request that finds the key full (or others waiting) takes a ticket in
// the key's shared queue, ordered by priority ([transport.Interactive]
// first) and then by arrival, across processes. A ticket is admitted only
// while it is among the first (limit − in flight) of the queue, so a free
// permit goes to the oldest waiter of the highest priority, whichever
// process it is in. A release publishes a notice on a pub/sub channel;
// each process with waiters then makes one call for all of them. A jittered
// re-check ([Config].Recheck) covers lost notices and crashed holders. A
// waiter whose context ends removes its ticket (and the lease, if it was
// admitted while giving up) before Acquire returns.
//
// # The shared adaptive limit
//
// The limit is learned by the concurrency package's adaptive policy (see
// its documentation: probe, hold, bound, one burst one signal, busy), with
// its state in one Redis hash and every step of it in the scripts, on the
// Redis server's clock, so all processes act as one gate. Levels (requests
// in flight at admission) and epochs (decreases so far) are counted over
// all processes. When the key is at its limit, one request, of whichever
// process asks first, is admitted one level above it as a probe; while
// that probe is pending no other goes above the limit, and the first call
// of any process after the probe has gone the gap without a 429 raises
// the shared limit to its level: one process's probe at a time, so N
// processes never each add their own. Decreases apply to every process at
// once: a release reporting a 429 removes its lease first, then bounds the
// limit by the 429's level − 1 and by the leases still held over all
// processes. A failed probe, a hold, a halving and a busy answer likewise
// hold for all. The latencies that set the probe gap and the hold (how
// long a 429 takes, the fastest response, the mean round trip) are measured
// by each process and kept together in Redis. Two things differ from the
// in-process limiter: a probe settles at the first script call after its
// gap, not on a timer, and a waiting process learns when a probe may
// settle or go from the reply of its own last look at the queue (and looks
// again then), else from the next release notice or re-check.
// [Limiter.Each] reports the limit in force: the learned limit, or the
// level of the pending probe.
//
// # When Redis is unreachable
//
// A Redis call that fails with anything but a Redis error reply (refused,
// reset, timed out) makes the limiter [Unavailable]: [Config].OnStateChange
// hears it once, waiting requests are re-routed, and Acquire either uses a
// local fixed limit of [Config].FallbackLimit per key or fails with
// [ErrUnavailable]. The limiter probes Redis every
// [Config].ProbeInterval and returns to the shared limit when it answers.
// Permits taken from the fallback are returned to it; leases that could not
// be released expire within the TTL.
//
// What the limit guarantees across an outage: while Redis is unreachable,
// each process admits up to its FallbackLimit on its own, so the processes
// together may exceed the shared limit. When Redis answers again, each
// process's next renewal (within TTL/3) puts back the leases of its
// requests still in flight, those that expired during a long outage or
// were lost with a server that restarted empty; until then, requests of
// other processes may be admitted beyond the limit. From then on the
// shared count is right again, and requests above the limit wait.
//
// # Keys
//
// For gate key K, the keys are Prefix+"{K}:leases", ":queue", ":tickets"
// and ":state" (one hash slot in a cluster), and the channel is
// Prefix+"release". Every call resets the keys' expiry: two TTLs for the
// sorted sets, [Config].StateTTL for the state.
type Limiter struct {
	rdb      redis.UniversalClient
	cfg      config
	channel  string
	fallback concurrency.Limiter // nil: fail closed

	idPrefix string
	seq      atomic.Uint64

	keysMu sync.Mutex
	keys   map[string]*keyState

	down    atomic.Bool
	stateMu sync.Mutex // serializes transitions and OnStateChange
	cause   error      // guarded by stateMu

	dirtyMu sync.Mutex
	dirty   map[*keyState]struct{}
	kick    chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	ps     *redis.PubSub
	wg     sync.WaitGroup
	once   sync.Once

	// jitter returns a duration between d/2 and 3d/2; replaced by tests.
	jitter func(d time.Duration) time.Duration
}

var _ concurrency.Limiter = (*Limiter)(nil)

// New returns a Limiter that shares its limit through rdb, configured by
// cfg (see [Config] for the defaults of a zero Config), and starts its
// goroutines; call [Limiter.Close] to stop them. It makes no Redis call
// itself: a Redis that is down shows on first use.
//
// Give rdb short timeouts: ContextTimeoutEnabled, so that [Config].Timeout
// bounds every call, or a short ReadTimeout and DialTimeout.
func New(rdb redis.UniversalClient, cfg Config) *Limiter {
	c := cfg.resolve()
	var b [6]byte
	_, _ = rand.Read(b[:])
	l := &Limiter{
		rdb:      rdb,
		cfg:      c,
		channel:  c.Prefix + "release",
		idPrefix: hex.EncodeToString(b[:]) + ":",
		keys:     make(map[string]*keyState),
		dirty:    make(map[*keyState]struct{}),
		kick:     make(chan struct{}, 1),
		jitter:   jitter,
	}
	if c.FallbackLimit > 0 {
		l.fallback = concurrency.NewLimiter(concurrency.Config{
			Limits: concurrency.Limits{
				Limit:        c.FallbackLimit,
				MaxQueue:     c.MaxQueue,
				QueueTimeout: c.QueueTimeout,
			},
		})
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.ps = rdb.Subscribe(l.ctx)
	l.wg.Add(3)
	go l.subscribe()
	go l.dispatch()
	go l.maintain()
	return l
}

// Close stops the limiter's goroutines and waits for them. Acquire then
// fails with [ErrClosed], and requests waiting fail with it; permits still
// held can be released, but are no longer renewed. Close is idempotent.
func (l *Limiter) Close() error {
	l.once.Do(func() {
		l.cancel()
		_ = l.ps.Close()
		l.wg.Wait()
		l.keysMu.Lock()
		for _, ks := range l.keys {
			ks.mu.Lock()
			if ks.kick != nil {
				ks.kick.Stop()
				ks.kick = nil
			}
			ks.mu.Unlock()
			ks.retryAll()
		}
		l.keysMu.Unlock()
	})
	return nil
}

// State reports whether the limiter currently reaches Redis.
func (l *Limiter) State() State {
	if l.down.Load() {
		return Unavailable
	}
	return Available
}

// Each implements [concurrency.Limiter]: the shared limit, permits held and
// requests queued (over all processes) of every key this process has used,
// one Redis call per key. While Redis is unreachable it reports the local
// fallback's keys, or nothing when failing closed.
func (l *Limiter) Each(fn func(key string, s concurrency.KeyStats)) {
	if l.down.Load() {
		if l.fallback != nil {
			l.fallback.Each(fn)
		}
		return
	}
	l.each(func(ks *keyState) {
		v, err := l.run(context.Background(), statsScript, ks)
		if err != nil || len(v) < 3 {
			return
		}
		s := concurrency.KeyStats{Limit: toInt(v[0]), InFlight: toInt(v[1]), Queued: toInt(v[2])}
		l.sawLimit(ks, s.Limit)
		fn(ks.key, s)
	})
}

// state returns the state of key, made on first use.
func (l *Limiter) state(key string) *keyState {
	l.keysMu.Lock()
	defer l.keysMu.Unlock()
	ks := l.keys[key]
	if ks == nil {
		base := l.cfg.Prefix + "{" + key + "}:"
		ks = &keyState{
			key:     key,
			rkeys:   []string{base + "leases", base + "queue", base + "tickets", base + "state"},
			held:    make(map[string]struct{}),
			waiting: make(map[string]*waiter),
		}
		ks.limit.Store(int64(l.cfg.InitialLimit))
		if l.cfg.Limit > 0 {
			ks.limit.Store(int64(l.cfg.Limit))
		}
		l.keys[key] = ks
	}
	return ks
}

// each calls fn for every key state.
func (l *Limiter) each(fn func(ks *keyState)) {
	l.keysMu.Lock()
	all := slices.Collect(maps.Values(l.keys))
	l.keysMu.Unlock()
	for _, ks := range all {
		fn(ks)
	}
}

// newID returns an id unique to this limiter, for a lease and the ticket
// that precedes it.
func (l *Limiter) newID() string {
	return l.idPrefix + strconv.FormatUint(l.seq.Add(1), 36)
}

// run runs a script for ks with the common arguments followed by args,
// bounded by the configured timeout. An error that means Redis is
// unreachable makes the limiter unavailable.
func (l *Limiter) run(parent context.Context, s *redis.Script, ks *keyState, args ...any) ([]any, error) {
	ctx, cancel := context.WithTimeout(parent, l.cfg.Timeout)
	defer cancel()
	c := &l.cfg
	all := make([]any, 0, 10+len(args))
	all = append(all, c.TTL.Milliseconds(), 2*c.TTL.Milliseconds(), c.StateTTL.Milliseconds(),
		c.Limit, c.InitialLimit, c.MinLimit, c.MaxLimit, l.channel, ks.key, c.MaxGrowth)
	all = append(all, args...)
	v, err := s.Run(ctx, l.rdb, ks.rkeys, all...).Slice()
	if err != nil {
		switch {
		case parent.Err() != nil:
		case unreachable(err):
			l.setDown(err)
		case l.cfg.OnError != nil:
			l.cfg.OnError(err)
		}
		return nil, err
	}
	return v, nil
}

// sawLimit records the shared limit of ks as seen in a reply.
func (l *Limiter) sawLimit(ks *keyState, limit int) {
	if old := ks.limit.Swap(int64(limit)); old != int64(limit) && l.cfg.OnLimit != nil {
		l.cfg.OnLimit(ks.key, limit)
	}
}

func toInt(v any) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case string:
		n, _ := strconv.Atoi(x)
		return n
	}
	return 0
}
