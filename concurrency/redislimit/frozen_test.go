package redislimit_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/pacerhttp/pacer/transport"
)

// TestFrozenRedisHonoursTheCallersContext freezes redis-server (SIGSTOP)
// while an Acquire is out: the caller that gives up gets its context's
// error at once, not after the limiter's 30 s call timeout; and when Redis
// resumes and runs the abandoned call after all, the lease it takes is
// cancelled at the next renewal tick, long before its TTL.
func TestFrozenRedisHonoursTheCallersContext(t *testing.T) {
	rs := startRedis(t)
	g := &group{rdb: newClient(t, rs.Addr()), prefix: uniquePrefix(t)}
	const ttl = 6 * time.Second
	l := redislimit.New(newClient(t, rs.Addr()), redislimit.Config{Prefix: g.prefix, Limit: 2, TTL: ttl, Timeout: 30 * time.Second})
	defer l.Close()
	ctx := context.Background()
	pm, err := l.Acquire(ctx, "k", transport.Interactive) // a warm connection
	if err != nil {
		t.Fatal(err)
	}
	release(pm)

	if err := rs.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			_ = rs.cmd.Process.Signal(syscall.SIGCONT)
		}
	}
	defer thaw()
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		pm, err := l.Acquire(cctx, "k", transport.Interactive)
		if pm != nil {
			release(pm)
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the call go out to the frozen server
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Acquire with Redis frozen: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Acquire did not return when its context was canceled")
	}
	thaw()

	// The abandoned call may have run on resume, taking a lease: it must go
	// well before the lease's TTL, and both slots be free again.
	start := time.Now()
	eventually(t, "the orphaned lease cancelled", func() bool { return g.card(t, "k", "leases") == 0 })
	if waited := time.Since(start); waited >= ttl {
		t.Errorf("the orphaned lease went after %v, its TTL: not cancelled", waited)
	}
	var held []concurrency.Permit
	for range 2 {
		actx, c := context.WithTimeout(ctx, 5*time.Second)
		pm, err := l.Acquire(actx, "k", transport.Interactive)
		c()
		if err != nil {
			t.Fatalf("acquire after the thaw: %v", err)
		}
		held = append(held, pm)
	}
	for _, pm := range held {
		release(pm)
	}
}

// TestLeasesPutBackAfterDataLoss holds both slots of a shared limit of 2
// through a Redis restart that loses every lease (as an outage longer than
// the TTL does): the renewal puts the leases back, so that a third
// request waits instead of making three in flight.
func TestLeasesPutBackAfterDataLoss(t *testing.T) {
	rs := startRedis(t)
	g := &group{rdb: newClient(t, rs.Addr()), prefix: uniquePrefix(t)}
	tr := newTransitions()
	l := redislimit.New(newClient(t, rs.Addr()), redislimit.Config{
		Prefix: g.prefix, Limit: 2, TTL: 600 * time.Millisecond, Timeout: 200 * time.Millisecond,
		ProbeInterval: 50 * time.Millisecond, FallbackLimit: -1, OnStateChange: tr.record,
	})
	defer l.Close()
	ctx := context.Background()
	var held []concurrency.Permit
	for range 2 {
		pm, err := l.Acquire(ctx, "k", transport.Interactive)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, pm)
	}
	rs.stop()
	tr.await(t, redislimit.Unavailable)
	rs.start()
	tr.await(t, redislimit.Available)
	eventually(t, "the leases put back", func() bool { return g.card(t, "k", "leases") == 2 })

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if pm, err := l.Acquire(short, "k", transport.Interactive); !errors.Is(err, context.DeadlineExceeded) {
		if pm != nil {
			release(pm)
		}
		t.Errorf("a third request with two leases held: %v, want it to wait", err)
	}
	for _, pm := range held {
		release(pm)
	}
	eventually(t, "the leases released", func() bool { return g.card(t, "k", "leases") == 0 })
}
