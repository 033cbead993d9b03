package redislimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/transport"
)

// transitions records OnStateChange calls.
type transitions struct {
	mu  sync.Mutex
	got []redislimit.State
	ch  chan redislimit.State
}

func newTransitions() *transitions { return &transitions{ch: make(chan redislimit.State, 16)} }

func (tr *transitions) record(s redislimit.State, err error) {
	tr.mu.Lock()
	tr.got = append(tr.got, s)
	tr.mu.Unlock()
	tr.ch <- s
}

func (tr *transitions) await(t *testing.T, want redislimit.State) {
	t.Helper()
	select {
	case s := <-tr.ch:
		if s != want {
			t.Fatalf("state changed to %v, want %v", s, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no change to %v", want)
	}
}

func (tr *transitions) all() []redislimit.State {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]redislimit.State(nil), tr.got...)
}

// TestRedisOutage stops Redis in the middle of a run and starts it again on
// the same port, in both modes: the chosen fallback happens once, nothing
// hangs (every wait is bounded by a generous context), and sharing
// resumes.
func TestRedisOutage(t *testing.T) {
	for _, mode := range []struct {
		name     string
		fallback int
	}{{"fallback", 2}, {"fail_closed", -1}} {
		t.Run(mode.name, func(t *testing.T) {
			rs := startRedis(t)
			tr := newTransitions()
			prefix := uniquePrefix(t)
			rdb := newClient(t, rs.Addr())
			l := redislimit.New(rdb, redislimit.Config{
				Prefix: prefix, Limits: concurrency.Limits{Limit: 1}, TTL: time.Second, Timeout: 200 * time.Millisecond,
				Recheck: 30 * time.Millisecond, ProbeInterval: 50 * time.Millisecond,
				FallbackLimit: mode.fallback, OnStateChange: tr.record,
			})
			defer l.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			// Shared: one permit held, one request waiting in Redis.
			held, err := l.Acquire(ctx, "k", transport.Interactive)
			if err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			go func() {
				pm, err := l.Acquire(ctx, "k", transport.Interactive)
				if err == nil {
					release(pm)
				}
				waited <- err
			}()
			queued := func() int64 { return rdb.ZCard(ctx, prefix+"{k}:queue").Val() }
			testwait.For(t, func() bool { return queued() == 1 }, "the ticket")

			rs.stop()
			// The waiter is re-routed when the re-check finds Redis gone.
			err = <-waited
			tr.await(t, redislimit.Unavailable)
			if l.State() != redislimit.Unavailable {
				t.Errorf("State() = %v during the outage", l.State())
			}
			if mode.fallback > 0 {
				if err != nil {
					t.Fatalf("waiter during the outage: %v, want a fallback permit", err)
				}
				// The local fallback holds FallbackLimit per key.
				var pms []concurrency.Permit
				for range mode.fallback {
					pm, err := l.Acquire(ctx, "k", transport.Interactive)
					if err != nil {
						t.Fatalf("fallback acquire: %v", err)
					}
					pms = append(pms, pm)
				}
				short, c := context.WithTimeout(ctx, 50*time.Millisecond)
				if _, err := l.Acquire(short, "k", transport.Interactive); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("acquire above the fallback limit: %v, want a wait", err)
				}
				c()
				for _, pm := range pms {
					release(pm)
				}
			} else {
				if !errors.Is(err, redislimit.ErrUnavailable) {
					t.Fatalf("waiter during the outage: %v, want ErrUnavailable", err)
				}
				for range 3 {
					_, err := l.Acquire(ctx, "k", transport.Interactive)
					var ue *redislimit.UnavailableError
					if !errors.Is(err, redislimit.ErrUnavailable) || !errors.As(err, &ue) || ue.Key != "k" {
						t.Fatalf("acquire during the outage: %v, want an *UnavailableError", err)
					}
					if !errors.Is(err, transport.ErrRejected) || transport.Classify(nil, err) != transport.Rejected {
						t.Fatalf("acquire during the outage: %v, want a transport.ErrRejected rejection", err)
					}
				}
			}
			release(held) // no call while unavailable

			rs.start()
			tr.await(t, redislimit.Available)
			pm, err := l.Acquire(ctx, "k", transport.Interactive)
			if err != nil {
				t.Fatalf("acquire after recovery: %v", err)
			}
			if n := rdb.ZCard(ctx, prefix+"{k}:leases").Val(); n != 1 {
				t.Errorf("after recovery the lease is not in Redis (%d leases)", n)
			}
			release(pm)
			if got := tr.all(); len(got) != 2 {
				t.Errorf("transitions %v; want exactly one down and one up", got)
			}
		})
	}
}

// TestRedisOutageUnderLoad keeps two limiters busy while Redis stops and
// starts again: in fallback mode no request fails, failing closed only
// with ErrUnavailable; no Acquire hangs; sharing resumes and leaves nothing
// behind.
func TestRedisOutageUnderLoad(t *testing.T) {
	for _, mode := range []struct {
		name     string
		fallback int
	}{{"fallback", 2}, {"fail_closed", -1}} {
		t.Run(mode.name, func(t *testing.T) {
			rs := startRedis(t)
			prefix := uniquePrefix(t)
			rdb := newClient(t, rs.Addr())
			var trs []*transitions
			var lims []*redislimit.Limiter
			for range 2 {
				tr := newTransitions()
				l := redislimit.New(newClient(t, rs.Addr()), redislimit.Config{
					Prefix: prefix, Limits: concurrency.Limits{Limit: 3}, TTL: time.Second, Timeout: 200 * time.Millisecond,
					Recheck: 30 * time.Millisecond, ProbeInterval: 50 * time.Millisecond,
					FallbackLimit: mode.fallback, OnStateChange: tr.record,
				})
				defer l.Close()
				trs, lims = append(trs, tr), append(lims, l)
			}
			var phase atomic.Int32 // 0 shared, 1 outage, 2 shared again
			var okBy [3]atomic.Int64
			var failed atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for i := range 8 {
				l := lims[i%2]
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						p := phase.Load()
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						pm, err := l.Acquire(ctx, "k", transport.Interactive)
						cancel()
						switch {
						case err == nil:
							time.Sleep(time.Millisecond)
							release(pm)
							okBy[p].Add(1)
						case mode.fallback < 0 && errors.Is(err, redislimit.ErrUnavailable):
							time.Sleep(time.Millisecond)
						default:
							t.Errorf("acquire in phase %d: %v", p, err)
							failed.Add(1)
							return
						}
					}
				})
			}
			time.Sleep(200 * time.Millisecond)
			phase.Store(1)
			rs.stop()
			for _, tr := range trs {
				tr.await(t, redislimit.Unavailable)
			}
			time.Sleep(200 * time.Millisecond)
			rs.start()
			for _, tr := range trs {
				tr.await(t, redislimit.Available)
			}
			phase.Store(2)
			time.Sleep(200 * time.Millisecond)
			close(stop)
			wg.Wait()
			t.Logf("admitted: %d before, %d during, %d after the outage", okBy[0].Load(), okBy[1].Load(), okBy[2].Load())
			if okBy[0].Load() == 0 || okBy[2].Load() == 0 {
				t.Error("no progress before or after the outage")
			}
			if mode.fallback > 0 && okBy[1].Load() == 0 {
				t.Error("no progress on the fallback during the outage")
			}
			testwait.For(t, func() bool {
				return rdb.ZCard(context.Background(), prefix+"{k}:leases").Val() == 0 &&
					rdb.ZCard(context.Background(), prefix+"{k}:queue").Val() == 0
			}, "no leases or tickets left")

		})
	}
}
