package concurrency

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// NewLimiter returns the in-process [Limiter] that [New] uses when
// [Config].Limiter is nil: fixed when cfg.Limit is positive, adaptive
// otherwise (see the package documentation), with a FIFO queue per key and
// priority bounded by cfg.MaxQueue and cfg.QueueTimeout. It reads
// cfg.Limits, with [Limits.WithDefaults] applied, and cfg.OnLimit, and
// ignores the rest of cfg. It is safe for concurrent use; an
// uncontended Acquire and Release neither block nor allocate. Keys are
// kept for the life of the limiter, so key by something with few values
// (hosts, models, API keys).
//
// A shared limiter can use one as its fallback when its store is
// unreachable.
func NewLimiter(cfg Config) Limiter {
	return newLocal(cfg)
}

type localLimiter struct {
	fixed           int
	initial, lo, hi int
	growth          float64
	maxQueue        int
	queueTimeout    time.Duration
	onLimit         func(key string, limit int)
	keys            sync.Map // string -> *keyState
	create          sync.Mutex
	last            atomic.Pointer[keyState] // the key used last: most gates see one

	// now and afterFunc are the clock, replaced by tests.
	now       func() time.Time
	since     func(time.Time) time.Duration // time since a time now returned, from the monotonic clock alone
	afterFunc func(d time.Duration, f func())
}

func newLocal(cfg Config) *localLimiter {
	lim := cfg.Limits.WithDefaults()
	return &localLimiter{
		fixed:        lim.Limit,
		lo:           lim.MinLimit,
		hi:           lim.MaxLimit,
		initial:      lim.InitialLimit,
		growth:       lim.MaxGrowth,
		maxQueue:     lim.MaxQueue,
		queueTimeout: lim.QueueTimeout,
		onLimit:      cfg.OnLimit,
		now:          time.Now,
		since:        time.Since,
		afterFunc:    func(d time.Duration, f func()) { time.AfterFunc(d, f) },
	}
}

// keyState is the state of one key. Everything in it is guarded by mu.
type keyState struct {
	mu       sync.Mutex
	l        *localLimiter
	key      string
	inFlight int
	queued   int
	queue    [2]waitList // by priority: Interactive, Background
	alg      adaptive    // alg.limit is the limit, also in fixed mode
	fixed    bool
	kicking  bool         // a timer will call handOff when a probe may go
	reported int          // the limit last passed to OnLimit
	free     *localPermit // permits to reuse
}

// localPermit is a permit of the in-process limiter. Permits are reused
// through the key's free list: the gate releases each exactly once.
type localPermit struct {
	ks    *keyState
	next  *localPermit // in the free list
	level int          // in flight at admission, itself included
	epoch uint64       // the key's decrease count at admission
	base  int          // the key's limit at admission
	// queued is set when the permit was handed to a queued request, clear
	// when Acquire granted it at once.
	queued bool
	// learned is set when Responded learned from the attempt already.
	learned bool
}

func (l *localLimiter) state(key string) *keyState {
	if ks := l.last.Load(); ks != nil && ks.key == key {
		return ks
	}
	if v, ok := l.keys.Load(key); ok {
		ks := v.(*keyState)
		l.last.Store(ks)
		return ks
	}
	l.create.Lock()
	defer l.create.Unlock()
	if v, ok := l.keys.Load(key); ok {
		return v.(*keyState)
	}
	ks := &keyState{l: l, key: key}
	if l.fixed > 0 {
		ks.fixed = true
		ks.alg = newAdaptive(l.fixed, l.fixed, l.fixed)
	} else {
		ks.alg = newAdaptive(l.initial, l.lo, l.hi)
		ks.alg.slowStart(l.growth)
	}
	ks.reported = ks.alg.current()
	l.keys.Store(key, ks)
	l.last.Store(ks)
	return ks
}

// Acquire implements [Limiter].
func (l *localLimiter) Acquire(ctx context.Context, key string, p transport.Priority) (Permit, error) {
	ks := l.state(key)
	ks.mu.Lock()
	if ks.queued == 0 && (ks.inFlight < ks.alg.limit || ks.probeNow()) {
		pm := ks.admit()
		limit := ks.changed()
		ks.mu.Unlock()
		ks.report(limit)
		return pm, nil
	}
	return ks.wait(ctx, p)
}

// probeNow reports whether one more request may be admitted although the
// key is at its limit: the first of a probe, the rest of a pending one,
// or the first request at a level a probe has just shown to fit. When not
// yet, it arms a timer that retries the queue when it may. Called with mu
// held.
func (ks *keyState) probeNow() bool {
	if ks.fixed {
		return false
	}
	d := ks.alg.probeWait(ks.l.now())
	switch {
	case ks.inFlight < ks.alg.limit:
		return true
	case d < 0:
		return false
	case d == 0:
		return ks.inFlight < max(ks.alg.current(), ks.alg.limit+1)
	}
	ks.arm(d)
	return false
}

// arm makes a timer call kick after d, unless one is armed. Called with mu
// held.
func (ks *keyState) arm(d time.Duration) {
	if !ks.kicking {
		ks.kicking = true
		ks.l.afterFunc(d, ks.kick)
	}
}

// kick admits queued requests when a probe may settle or go.
func (ks *keyState) kick() {
	ks.mu.Lock()
	ks.kicking = false
	ks.handOff()
	limit := ks.changed()
	ks.mu.Unlock()
	ks.report(limit)
}

// changed returns the limit in force when it differs from the one last
// reported to OnLimit, and 0 otherwise. Called with mu held.
func (ks *keyState) changed() int {
	if ks.fixed || ks.l.onLimit == nil {
		return 0
	}
	c := ks.alg.current()
	if c == ks.reported {
		return 0
	}
	ks.reported = c
	return c
}

// report passes a changed limit to OnLimit. Called without mu.
func (ks *keyState) report(limit int) {
	if limit > 0 {
		ks.l.onLimit(ks.key, limit)
	}
}

// admit takes a permit for one more request. Called with mu held.
func (ks *keyState) admit() *localPermit {
	ks.inFlight++
	if ks.inFlight > ks.alg.limit {
		// A probe: it settles when the gap passes without a 429.
		ks.alg.admitted(ks.inFlight, ks.l.now())
		ks.arm(ks.alg.gap())
	}
	pm := ks.free
	if pm != nil {
		ks.free = pm.next
	} else {
		pm = &localPermit{ks: ks}
	}
	pm.next, pm.level, pm.epoch, pm.base = nil, ks.inFlight, ks.alg.epoch, ks.alg.limit
	pm.queued, pm.learned = false, false
	return pm
}

// wait queues the caller until a releasing goroutine hands it a permit.
// Called with mu held; returns with it released.
func (ks *keyState) wait(ctx context.Context, p transport.Priority) (Permit, error) {
	if err := ctx.Err(); err != nil {
		ks.mu.Unlock()
		return nil, err
	}
	if ks.l.maxQueue < 0 || ks.queued >= ks.l.maxQueue {
		ks.mu.Unlock()
		return nil, &QueueError{Err: ErrQueueFull, Key: ks.key, MaxQueue: max(ks.l.maxQueue, 0)}
	}
	q := &ks.queue[0]
	if p != transport.Interactive {
		q = &ks.queue[1]
	}
	w := &waiter{ready: make(chan struct{})}
	q.PushBack(w)
	ks.queued++
	ks.mu.Unlock()

	var timeout <-chan time.Time
	if ks.l.queueTimeout > 0 {
		t := time.NewTimer(ks.l.queueTimeout)
		defer t.Stop()
		timeout = t.C
	}
	var err error
	select {
	case <-w.ready:
		return w.permit, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timeout:
		err = &QueueError{Err: ErrQueueTimeout, Key: ks.key, Timeout: ks.l.queueTimeout}
	}
	ks.mu.Lock()
	if pm := w.permit; pm != nil {
		// Admitted while giving up: pass the permit on, as if never taken.
		ks.mu.Unlock()
		pm.quiet()
		return nil, err
	}
	q.Remove(w)
	ks.queued--
	ks.mu.Unlock()
	return nil, err
}

// handOff admits queued requests while there is room, Interactive first.
// Called with mu held.
func (ks *keyState) handOff() {
	for ks.queued > 0 && (ks.inFlight < ks.alg.limit || ks.probeNow()) {
		w := ks.queue[0].PopFront()
		if w == nil {
			w = ks.queue[1].PopFront()
		}
		ks.queued--
		w.permit = ks.admit()
		w.permit.queued = true
		close(w.ready)
	}
}

// Release implements [Permit]: it learns from fb, returns the permit and
// admits whoever may go now.
func (pm *localPermit) Release(fb Feedback) {
	ks := pm.ks
	ks.mu.Lock()
	if !ks.fixed && !pm.learned {
		ks.learn(fb, pm)
	}
	pm.next, ks.free = ks.free, pm
	ks.inFlight--
	ks.handOff()
	limit := ks.changed()
	ks.mu.Unlock()
	ks.report(limit)
}

// Responded implements [Responder]: a sign that the platform is full (a
// response that waited to be scheduled, or a 503) is learned when the
// response starts, so that it undoes the raises made while the request
// waited and not those made while a stream was read; Release then learns
// nothing more. Anything else waits for Release.
func (pm *localPermit) Responded(fb Feedback) {
	ks := pm.ks
	if ks.fixed || !fb.Busy() {
		return
	}
	ks.mu.Lock()
	ks.learn(fb, pm)
	pm.learned = true
	limit := ks.changed()
	ks.mu.Unlock()
	ks.report(limit)
}

// learn feeds fb to the adaptive state. Called with mu held, before the
// permit is counted out.
func (ks *keyState) learn(fb Feedback, pm *localPermit) {
	ks.alg.timed(fb.Outcome == transport.RateLimited, fb.Latency)
	switch fb.Outcome {
	case transport.RateLimited:
		ks.alg.rateLimited(pm.level, pm.epoch, ks.inFlight-1, ks.l.now())
	case transport.OK:
		if fb.Busy() {
			ks.alg.busy(pm.level, pm.base, ks.l.now())
			return
		}
		ks.alg.success(pm.level, pm.epoch)
		if !fb.Admitted.IsZero() {
			ks.alg.heldFor(ks.l.since(fb.Admitted))
		}
	case transport.Overloaded:
		ks.alg.busy(pm.level, pm.base, ks.l.now())
	}
}

// quiet returns a permit without learning anything from it.
func (pm *localPermit) quiet() {
	ks := pm.ks
	ks.mu.Lock()
	pm.next, ks.free = ks.free, pm
	ks.inFlight--
	ks.handOff()
	ks.mu.Unlock()
}

// Each implements [Limiter].
func (l *localLimiter) Each(fn func(key string, s KeyStats)) {
	l.keys.Range(func(k, v any) bool {
		ks := v.(*keyState)
		ks.mu.Lock()
		s := KeyStats{Limit: ks.alg.current(), InFlight: ks.inFlight, Queued: ks.queued}
		ks.mu.Unlock()
		fn(k.(string), s)
		return true
	})
}
