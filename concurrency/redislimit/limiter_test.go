package redislimit_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/transport"
)

// group is several limiters sharing a prefix on one server: stand-ins for
// processes.
type group struct {
	rdb    *redis.Client
	prefix string
	lims   []*redislimit.Limiter
}

func newGroup(t *testing.T, n int, cfg redislimit.Config) *group {
	t.Helper()
	rs := startRedis(t)
	g := &group{rdb: newClient(t, rs.Addr()), prefix: uniquePrefix(t)}
	cfg.Prefix = g.prefix
	if cfg.Recheck == 0 {
		cfg.Recheck = 50 * time.Millisecond
	}
	for range n {
		l := redislimit.New(newClient(t, rs.Addr()), cfg)
		t.Cleanup(func() { l.Close() })
		g.lims = append(g.lims, l)
	}
	return g
}

// card returns the size of the key's sorted set ("leases", "queue",
// "tickets").
func (g *group) card(t *testing.T, key, set string) int64 {
	t.Helper()
	n, err := g.rdb.ZCard(context.Background(), g.prefix+"{"+key+"}:"+set).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func release(pm concurrency.Permit) { pm.Release(concurrency.Feedback{Outcome: transport.OK}) }

func TestNeverAboveLimitAcrossLimiters(t *testing.T) {
	const k = 3
	g := newGroup(t, 3, redislimit.Config{Limits: concurrency.Limits{Limit: k}})
	var inFlight, peak, ok, canceled atomic.Int64
	var wg sync.WaitGroup
	for i := range 30 {
		l := g.lims[i%len(g.lims)]
		wg.Go(func() {
			for j := range 15 {
				ctx, cancel := context.WithCancel(context.Background())
				if (i+j)%5 == 0 {
					time.AfterFunc(time.Duration(rand.IntN(2000))*time.Microsecond, cancel)
				}
				pm, err := l.Acquire(ctx, "k", transport.Priority(j%2))
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("acquire: %v", err)
					}
					canceled.Add(1)
					cancel()
					continue
				}
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(time.Millisecond)
				inFlight.Add(-1)
				release(pm)
				ok.Add(1)
				cancel()
			}
		})
	}
	wg.Wait()
	t.Logf("%d admitted, %d canceled while waiting, peak in flight %d (limit %d)", ok.Load(), canceled.Load(), peak.Load(), k)
	if peak.Load() > k {
		t.Errorf("peak in flight %d above the shared limit %d", peak.Load(), k)
	}
	for _, set := range []string{"leases", "queue", "tickets"} {
		if n := g.card(t, "k", set); n != 0 {
			t.Errorf("%s holds %d entries after every request ended", set, n)
		}
	}
}

func TestCancelLeavesNoTrace(t *testing.T) {
	g := newGroup(t, 2, redislimit.Config{Limits: concurrency.Limits{Limit: 1}})
	a, b := g.lims[0], g.lims[1]
	held, err := a.Acquire(context.Background(), "k", transport.Interactive)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.Acquire(ctx, "k", transport.Background)
		done <- err
	}()
	testwait.For(t, func() bool { return g.card(t, "k", "queue") == 1 }, "the ticket")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled wait returned %v", err)
	}
	// Acquire returned: its ticket is already gone.
	if q, tk, l := g.card(t, "k", "queue"), g.card(t, "k", "tickets"), g.card(t, "k", "leases"); q != 0 || tk != 0 || l != 1 {
		t.Fatalf("after cancel: queue %d, tickets %d, leases %d; want 0, 0, 1", q, tk, l)
	}

	// Every key the limiter made has an expiry.
	keys, err := g.rdb.Keys(context.Background(), g.prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	for _, k := range keys {
		if ttl := g.rdb.PTTL(context.Background(), k).Val(); ttl <= 0 {
			t.Errorf("key %s has no expiry (PTTL %v)", k, ttl)
		}
	}

	// The next waiter is not skipped: it gets the permit on release.
	got := make(chan concurrency.Permit, 1)
	go func() {
		pm, err := b.Acquire(context.Background(), "k", transport.Interactive)
		if err != nil {
			t.Error(err)
		}
		got <- pm
	}()
	testwait.For(t, func() bool { return g.card(t, "k", "queue") == 1 }, "the second ticket")
	release(held)
	release(<-got)
	if n := g.card(t, "k", "leases"); n != 0 {
		t.Errorf("leases %d after all released", n)
	}
}

func TestQueueFullAndTimeout(t *testing.T) {
	g := newGroup(t, 2, redislimit.Config{Limits: concurrency.Limits{Limit: 1, MaxQueue: 1, QueueTimeout: 100 * time.Millisecond}})
	a, b := g.lims[0], g.lims[1]
	held, err := a.Acquire(context.Background(), "k", transport.Interactive)
	if err != nil {
		t.Fatal(err)
	}
	defer release(held)
	done := make(chan error, 1)
	go func() {
		_, err := b.Acquire(context.Background(), "k", transport.Interactive)
		done <- err
	}()
	testwait.For(t, func() bool { return g.card(t, "k", "queue") == 1 }, "the ticket")
	_, err = a.Acquire(context.Background(), "k", transport.Interactive)
	var qe *concurrency.QueueError
	if !errors.Is(err, concurrency.ErrQueueFull) || !errors.As(err, &qe) || qe.MaxQueue != 1 {
		t.Errorf("second waiter: %v; want ErrQueueFull with MaxQueue 1", err)
	}
	if err := <-done; !errors.Is(err, concurrency.ErrQueueTimeout) {
		t.Errorf("first waiter: %v; want ErrQueueTimeout", err)
	}
	if q, tk := g.card(t, "k", "queue"), g.card(t, "k", "tickets"); q != 0 || tk != 0 {
		t.Errorf("after timeout: queue %d, tickets %d", q, tk)
	}
}

// TestOrderAcrossLimiters: with the key full, waiters from different
// limiters are admitted Interactive first, then in arrival order.
func TestOrderAcrossLimiters(t *testing.T) {
	g := newGroup(t, 3, redislimit.Config{Limits: concurrency.Limits{Limit: 1}})
	held, err := g.lims[0].Acquire(context.Background(), "k", transport.Interactive)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		name string
		prio transport.Priority
	}
	order := []entry{{"bg1", transport.Background}, {"bg2", transport.Background}, {"int1", transport.Interactive}, {"bg3", transport.Background}, {"int2", transport.Interactive}}
	want := []string{"int1", "int2", "bg1", "bg2", "bg3"}
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for i, e := range order {
		l := g.lims[1+i%2]
		wg.Go(func() {
			pm, err := l.Acquire(context.Background(), "k", e.prio)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got = append(got, e.name)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			release(pm)
		})
		testwait.For(t, func() bool { return g.card(t, "k", "queue") == int64(i+1) }, "ticket "+e.name)
	}
	release(held)
	wg.Wait()
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("admission order %v; want %v", got, want)
		}
	}
}

// limitOf reads the shared limit of key through l.
func limitOf(l *redislimit.Limiter, key string) int {
	lim := -1
	l.Each(func(k string, s concurrency.KeyStats) {
		if k == key {
			lim = s.Limit
		}
	})
	return lim
}

// stateField reads one field of the key's shared adaptive state.
func (g *group) stateField(t *testing.T, key, field string) int {
	t.Helper()
	v, err := g.rdb.HGet(context.Background(), g.prefix+"{"+key+"}:state", field).Int()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSharedDecrease: a 429 seen by one limiter lowers the limit for all
// at once; a 429 for a request admitted before that decrease only bounds
// the limit by what it shows (its level − 1, the requests still in
// flight) and is not a new signal (the epoch stays).
func TestSharedDecrease(t *testing.T) {
	g := newGroup(t, 2, redislimit.Config{Limits: concurrency.Limits{InitialLimit: 4}})
	a, b := g.lims[0], g.lims[1]
	var pms []concurrency.Permit
	for i := range 4 {
		l := []*redislimit.Limiter{a, b}[i%2]
		pm, err := l.Acquire(context.Background(), "k", transport.Interactive)
		if err != nil {
			t.Fatal(err)
		}
		pms = append(pms, pm)
	}
	limited := concurrency.Feedback{Outcome: transport.RateLimited}
	pms[3].Release(limited) // level 4, by b
	if got, ep := limitOf(a, "k"), g.stateField(t, "k", "epoch"); got != 3 || ep != 1 {
		t.Fatalf("after a 429 at level 4 in another limiter: limit %d, epoch %d; want 3, 1", got, ep)
	}
	pms[2].Release(limited) // level 3, same burst, by a; 2 still in flight
	if got, ep := limitOf(b, "k"), g.stateField(t, "k", "epoch"); got != 2 || ep != 1 {
		t.Errorf("after another 429 of the same burst: limit %d, epoch %d; want 2 (bounded by what it shows), 1 (not a new signal)", got, ep)
	}
	release(pms[1])
	release(pms[0])
}

// TestOneProbeAtATime: at the shared limit, one request of all the
// limiters is admitted one level above it, as a probe; the others wait
// while it is pending, and when it goes the gap without a 429 the limit
// rises to its level, once.
func TestOneProbeAtATime(t *testing.T) {
	var changes atomic.Int64
	g := newGroup(t, 2, redislimit.Config{Limits: concurrency.Limits{InitialLimit: 2}, OnLimit: func(string, int) { changes.Add(1) }})
	a, b := g.lims[0], g.lims[1]
	acquire := func(l *redislimit.Limiter) <-chan concurrency.Permit { return acquireAsync(t, l) }

	// A slow 429 with nothing else in flight: the limit falls to the
	// minimum, probing is held off for a while, and the probe gap becomes
	// three times that 429's latency, long enough to look at a pending
	// probe.
	p0 := <-acquire(a)
	p0.Release(concurrency.Feedback{Outcome: transport.RateLimited, Latency: 200 * time.Millisecond})
	if got := limitOf(a, "k"); got != 1 {
		t.Fatalf("limit %d after a 429 at level 1, want 1", got)
	}

	p1 := <-acquire(a) // level 1: within the limit
	p2 := <-acquire(a) // level 2: the probe, once the hold is over
	if got, lim := limitOf(a, "k"), g.stateField(t, "k", "limit"); got != 2 || lim != 1 {
		t.Fatalf("with a probe pending: limit in force %d, learned %d; want 2, 1", got, lim)
	}

	// Another limiter's request does not probe too: it waits.
	ch := acquire(b)
	testwait.For(t, func() bool { return g.card(t, "k", "queue") == 1 }, "the ticket")
	if got, lim := limitOf(b, "k"), g.stateField(t, "k", "limit"); got != 2 || lim != 1 {
		t.Errorf("second request at the limit: limit in force %d, learned %d; want 2, 1 (one probe at a time)", got, lim)
	}
	if n := g.card(t, "k", "leases"); n != 2 {
		t.Errorf("%d leases with a probe pending, want 2", n)
	}

	// The probe settles: the limit rises to 2, and the waiter goes as the
	// next probe, at level 3.
	p3 := <-ch
	if got, lim := limitOf(a, "k"), g.stateField(t, "k", "limit"); got != 3 || lim != 2 {
		t.Errorf("after the probe settled: limit in force %d, learned %d; want 3, 2", got, lim)
	}
	for _, pm := range []concurrency.Permit{p1, p2, p3} {
		release(pm)
	}
	if changes.Load() == 0 {
		t.Error("OnLimit never called")
	}
}

// TestFailedProbeAndBusy: a probe that gets a 429 leaves the limit as it
// was and holds probing off for a while; a busy answer (503) to a pending
// probe drops it.
func TestFailedProbeAndBusy(t *testing.T) {
	g := newGroup(t, 1, redislimit.Config{Limits: concurrency.Limits{InitialLimit: 1}})
	l := g.lims[0]
	acquire := func() <-chan concurrency.Permit { return acquireAsync(t, l) }
	// A slow 429 makes the probe gap long enough to answer a pending
	// probe before it settles.
	p0 := <-acquire()
	p0.Release(concurrency.Feedback{Outcome: transport.RateLimited, Latency: 200 * time.Millisecond})
	p1 := <-acquire() // level 1
	p2 := <-acquire() // level 2: a probe, after the hold
	if got := limitOf(l, "k"); got != 2 {
		t.Fatalf("limit in force %d with a probe pending, want 2", got)
	}
	p2.Release(concurrency.Feedback{Outcome: transport.RateLimited})
	if got, lim, ep := limitOf(l, "k"), g.stateField(t, "k", "limit"), g.stateField(t, "k", "epoch"); got != 1 || lim != 1 || ep != 2 {
		t.Fatalf("after a failed probe: limit in force %d, learned %d, epoch %d; want 1, 1, 2", got, lim, ep)
	}
	ch := acquire()
	testwait.For(t, func() bool { return g.card(t, "k", "queue") == 1 }, "the ticket")
	p3 := <-ch // the next probe, after the hold
	if got := limitOf(l, "k"); got != 2 {
		t.Fatalf("limit in force %d with the next probe pending, want 2", got)
	}
	p3.Release(concurrency.Feedback{Outcome: transport.Overloaded})
	if got, lim := limitOf(l, "k"), g.stateField(t, "k", "limit"); got != 1 || lim != 1 {
		t.Errorf("after a 503 to the probe: limit in force %d, learned %d; want 1, 1", got, lim)
	}
	release(p1)
}

// acquireAsync asks l for a permit for "k" in a goroutine of its own and
// returns where the permit will arrive (nil, and the test marked failed, if
// Acquire fails).
func acquireAsync(t *testing.T, l *redislimit.Limiter) <-chan concurrency.Permit {
	ch := make(chan concurrency.Permit, 1)
	go func() {
		pm, err := l.Acquire(context.Background(), "k", transport.Interactive)
		if err != nil {
			t.Error(err)
		}
		ch <- pm
	}()
	return ch
}

// raiseByProbes takes n more permits for "k", each the next probe, waiting
// past the probe gap (1ms before any answer was timed) before each so that
// the one before settles; it returns them.
// firstAnswer sends and answers one request for key k: no probe goes
// before the key's first answer.
func firstAnswer(t *testing.T, g *group) {
	t.Helper()
	pm, err := g.lims[0].Acquire(context.Background(), "k", transport.Interactive)
	if err != nil {
		t.Fatal(err)
	}
	pm.Release(concurrency.Feedback{Outcome: transport.OK, Latency: time.Millisecond})
}

func raiseByProbes(t *testing.T, g *group, n int) []concurrency.Permit {
	t.Helper()
	var pms []concurrency.Permit
	for i := range n {
		time.Sleep(5 * time.Millisecond)
		pm, err := g.lims[i%len(g.lims)].Acquire(context.Background(), "k", transport.Interactive)
		if err != nil {
			t.Fatal(err)
		}
		pms = append(pms, pm)
	}
	return pms
}

// TestBusyUndoesBlindRaises: probes settle on the silence of 429s, so the
// limit can rise several times while an earlier answer is still out; when
// that answer says the platform queued it, every raise made since its
// admission is undone, back to the limit it was admitted under, in every
// process.
func TestBusyUndoesBlindRaises(t *testing.T) {
	g := newGroup(t, 2, redislimit.Config{Limits: concurrency.Limits{InitialLimit: 2, MinLimit: 1}})
	firstAnswer(t, g)
	ctx := context.Background()
	first, err := g.lims[0].Acquire(ctx, "k", transport.Interactive) // level 1, at limit 2
	if err != nil {
		t.Fatal(err)
	}
	second, err := g.lims[1].Acquire(ctx, "k", transport.Interactive) // level 2
	if err != nil {
		t.Fatal(err)
	}
	probes := raiseByProbes(t, g, 3)
	if lim := g.stateField(t, "k", "limit"); lim != 4 {
		t.Fatalf("learned limit %d after two settled probes, want 4", lim)
	}
	first.Release(concurrency.Feedback{Outcome: transport.OK, ScheduleWait: time.Second})
	if lim, probe := g.stateField(t, "k", "limit"), g.stateField(t, "k", "probe"); lim != 2 || probe != 0 {
		t.Errorf("after a queued answer sent at limit 2: learned %d, probe %d; want 2, 0", lim, probe)
	}
	for _, pm := range append(probes, second) {
		release(pm)
	}
}

// TestBusyLearnedWhenTheResponseStarts: through Responded, a queued answer
// undoes the raises made while it waited when it starts; the raises made
// while its stream is read stand when it is released.
func TestBusyLearnedWhenTheResponseStarts(t *testing.T) {
	g := newGroup(t, 1, redislimit.Config{Limits: concurrency.Limits{InitialLimit: 2, MinLimit: 1}})
	firstAnswer(t, g)
	ctx := context.Background()
	stream, err := g.lims[0].Acquire(ctx, "k", transport.Interactive) // level 1, at limit 2
	if err != nil {
		t.Fatal(err)
	}
	other, err := g.lims[0].Acquire(ctx, "k", transport.Interactive)
	if err != nil {
		t.Fatal(err)
	}
	probes := raiseByProbes(t, g, 2)
	busy := concurrency.Feedback{Outcome: transport.OK, ScheduleWait: time.Second}
	stream.(concurrency.Responder).Responded(busy)
	if lim := g.stateField(t, "k", "limit"); lim != 2 {
		t.Fatalf("learned limit %d after the queued answer started, want 2", lim)
	}
	if n := g.card(t, "k", "leases"); n != 4 {
		t.Fatalf("%d leases after Responded, want 4: it keeps the lease", n)
	}
	for _, pm := range probes {
		release(pm)
	}
	probes = raiseByProbes(t, g, 3) // while the stream is read
	raised := g.stateField(t, "k", "limit")
	if raised <= 2 {
		t.Fatalf("learned limit %d after more probes, want a raise", raised)
	}
	stream.Release(busy)
	if lim := g.stateField(t, "k", "limit"); lim != raised {
		t.Errorf("learned limit %d after the stream ended, want %d: the raises made since it started stand", lim, raised)
	}
	for _, pm := range append(probes, other) {
		release(pm)
	}
	if n := g.card(t, "k", "leases"); n != 0 {
		t.Errorf("%d leases after every release", n)
	}
}

// TestQueuedPermitBase: a ticket admitted from the queue carries the limit
// it was admitted under, as one admitted at once does.
func TestQueuedPermitBase(t *testing.T) {
	g := newGroup(t, 1, redislimit.Config{Limits: concurrency.Limits{Limit: 3}})
	l := g.lims[0]
	ctx := context.Background()
	var held []concurrency.Permit
	for range 3 {
		pm, err := l.Acquire(ctx, "k", transport.Interactive)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, pm)
	}
	if got := redislimit.PermitBase(held[0]); got != 3 {
		t.Errorf("base %d of a permit admitted at once, want 3", got)
	}
	ch := acquireAsync(t, l)
	testwait.For(t, func() bool { return g.card(t, "k", "queue") == 1 }, "the ticket")
	release(held[0])
	queued := <-ch
	if got := redislimit.PermitBase(queued); got != 3 {
		t.Errorf("base %d of a permit admitted from the queue, want 3", got)
	}
	for _, pm := range append(held[1:], queued) {
		release(pm)
	}
}

func TestFixedLimitIgnoresFeedback(t *testing.T) {
	g := newGroup(t, 1, redislimit.Config{Limits: concurrency.Limits{Limit: 5}})
	l := g.lims[0]
	pm, err := l.Acquire(context.Background(), "k", transport.Interactive)
	if err != nil {
		t.Fatal(err)
	}
	pm.Release(concurrency.Feedback{Outcome: transport.RateLimited})
	if got := limitOf(l, "k"); got != 5 {
		t.Errorf("fixed limit %d after a 429, want 5", got)
	}
}

func TestCloseEndsWaiters(t *testing.T) {
	g := newGroup(t, 1, redislimit.Config{Limits: concurrency.Limits{Limit: 1}})
	l := g.lims[0]
	held, err := l.Acquire(context.Background(), "k", transport.Interactive)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.Acquire(context.Background(), "k", transport.Interactive)
		done <- err
	}()
	testwait.For(t, func() bool { return g.card(t, "k", "queue") == 1 }, "the ticket")
	l.Close()
	if err := <-done; !errors.Is(err, redislimit.ErrClosed) {
		t.Errorf("waiter after Close: %v, want ErrClosed", err)
	}
	release(held) // still possible after Close
	if n := g.card(t, "k", "leases"); n != 0 {
		t.Errorf("leases %d after release", n)
	}
	_, err = l.Acquire(context.Background(), "k", transport.Interactive)
	if !errors.Is(err, redislimit.ErrClosed) {
		t.Errorf("Acquire after Close: %v, want ErrClosed", err)
	}
	// Nothing was sent: not a network failure to retry or to count.
	if o := transport.Classify(nil, err); o != transport.Rejected {
		t.Errorf("Acquire after Close classified %v, want %v", o, transport.Rejected)
	}
}

// TestErrorReply: a key of the wrong type is an error reply, not an
// outage: Acquire says so, OnError hears it, and the limiter stays
// available. (A background look at the queue may run into the same key
// while the request waits for its reply, and report it too.)
func TestErrorReply(t *testing.T) {
	var reported, other atomic.Int64
	g := newGroup(t, 1, redislimit.Config{Limits: concurrency.Limits{Limit: 2}, OnError: func(err error) {
		reported.Add(1)
		if !redis.HasErrorPrefix(err, "WRONGTYPE") {
			other.Add(1)
		}
	}})
	l := g.lims[0]
	if err := g.rdb.Set(context.Background(), g.prefix+"{k}:leases", "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := l.Acquire(context.Background(), "k", transport.Interactive)
	var ce *redislimit.CallError
	if !errors.As(err, &ce) || ce.Key != "k" || !redis.HasErrorPrefix(ce.Err, "WRONGTYPE") {
		t.Fatalf("acquire: %v; want a *CallError with WRONGTYPE", err)
	}
	if o := transport.Classify(nil, err); o != transport.Rejected {
		t.Errorf("a failed call classified %v, want %v: the request was not sent", o, transport.Rejected)
	}
	if reported.Load() < 1 || other.Load() != 0 || l.State() != redislimit.Available {
		t.Errorf("OnError calls %d (%d not WRONGTYPE), state %v; want WRONGTYPE reported, available",
			reported.Load(), other.Load(), l.State())
	}
}
