package redislimit_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/transport"
	"github.com/redis/go-redis/v9"
)

// TestFrozenRedisHonoursTheCallersContext freezes redis-server (SIGSTOP)
// while an Acquire is out: the caller that gives up gets its context's
// error at once, not after the limiter's 30 s call timeout. When Redis
// resumes it runs the abandoned call after all, and the lease that call
// takes is cancelled at a renewal tick, long before its TTL: the test
// watches both happen through keyspace notifications (a ZADD, then a ZREM,
// not the expiry purge).
func TestFrozenRedisHonoursTheCallersContext(t *testing.T) {
	rs := startRedis(t)
	g := &group{rdb: newClient(t, rs.Addr()), prefix: uniquePrefix(t)}
	const ttl = 6 * time.Second
	sent := make(chan struct{}, 16)
	lc := redis.NewClient(&redis.Options{
		Addr:                  rs.Addr(),
		ContextTimeoutEnabled: true,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return scriptWatch{Conn: c, script: []byte(redislimit.AcquireScriptHash()), sent: sent}, nil
		},
	})
	defer lc.Close()
	l := redislimit.New(lc, redislimit.Config{Prefix: g.prefix, Limits: concurrency.Limits{Limit: 2}, TTL: ttl, Timeout: 30 * time.Second})
	defer l.Close()
	ctx := context.Background()
	pm, err := l.Acquire(ctx, "k", transport.Interactive) // a warm connection
	if err != nil {
		t.Fatal(err)
	}
	release(pm)

	ctl := g.rdb
	if err := ctl.ConfigSet(ctx, "notify-keyspace-events", "Kz").Err(); err != nil {
		t.Fatal(err)
	}
	sub := ctl.Subscribe(ctx, "__keyspace@0__:"+g.prefix+"{k}:leases")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription is in place
		t.Fatal(err)
	}
	events := sub.Channel()

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
	for len(sent) > 0 { // the warm-up's acquire
		<-sent
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		pm, err := l.Acquire(cctx, "k", transport.Interactive)
		if pm != nil {
			release(pm)
		}
		done <- err
	}()
	select {
	case <-sent: // the acquire call is on its way to the frozen server
	case <-time.After(10 * time.Second):
		t.Fatal("Acquire sent nothing to Redis")
	}
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

	// The abandoned call runs on resume, taking a lease; the lease must go
	// by a ZREM (a cancel), well before its TTL would purge it.
	start := time.Now()
	var seen []string
	for len(seen) < 2 {
		select {
		case m := <-events:
			seen = append(seen, m.Payload)
		case <-time.After(2 * ttl):
			t.Fatalf("keyspace events on the leases after the thaw: %v, want zadd then zrem", seen)
		}
	}
	if seen[0] != "zadd" || seen[1] != "zrem" {
		t.Fatalf("keyspace events on the leases after the thaw: %v, want [zadd zrem]", seen)
	}
	if waited := time.Since(start); waited >= ttl {
		t.Errorf("the orphaned lease went after %v, its TTL: not cancelled", waited)
	}
	t.Logf("the orphaned lease was cancelled %v after the thaw (TTL %v)", time.Since(start), ttl)
	if n := g.card(t, "k", "leases"); n != 0 {
		t.Errorf("%d leases after the cancel, want 0", n)
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

// scriptWatch is a connection to Redis that signals each call of one
// script (by its hash) written to it.
type scriptWatch struct {
	net.Conn
	script []byte
	sent   chan<- struct{}
}

func (c scriptWatch) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if bytes.Contains(p, c.script) {
		select {
		case c.sent <- struct{}{}:
		default:
		}
	}
	return n, err
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
		Prefix: g.prefix, Limits: concurrency.Limits{Limit: 2}, TTL: 600 * time.Millisecond, Timeout: 200 * time.Millisecond,
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
	testwait.For(t, func() bool { return g.card(t, "k", "leases") == 2 }, "the leases put back")

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
	testwait.For(t, func() bool { return g.card(t, "k", "leases") == 0 }, "the leases released")
}
