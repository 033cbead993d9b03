package redislimit

import (
	"context"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// markDirty asks the dispatcher to submit this process's waiters for ks.
func (l *Limiter) markDirty(ks *keyState) {
	l.dirtyMu.Lock()
	l.dirty[ks] = struct{}{}
	l.dirtyMu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// kickAfter marks ks dirty after d, when a paced admission is due; one
// timer per key at a time.
func (l *Limiter) kickAfter(ks *keyState, d time.Duration) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.kick != nil || l.ctx.Err() != nil {
		return
	}
	ks.kick = time.AfterFunc(d, func() {
		ks.mu.Lock()
		ks.kick = nil
		ks.mu.Unlock()
		l.markDirty(ks)
	})
}

// markWaiting marks every key with waiters dirty.
func (l *Limiter) markWaiting() {
	l.each(func(ks *keyState) {
		if ks.hasWaiters() {
			l.markDirty(ks)
		}
	})
}

// dispatch admits waiters when a release is announced, when asked, and at
// jittered intervals as a safety net.
func (l *Limiter) dispatch() {
	defer l.wg.Done()
	t := time.NewTimer(l.jitter(l.cfg.Recheck))
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-l.kick:
		case <-t.C:
			t.Reset(l.jitter(l.cfg.Recheck))
			l.markWaiting()
		}
		l.dirtyMu.Lock()
		batch := slices.Collect(maps.Keys(l.dirty))
		clear(l.dirty)
		l.dirtyMu.Unlock()
		for _, ks := range batch {
			if l.down.Load() || l.ctx.Err() != nil {
				break
			}
			l.admitWaiting(ks)
		}
	}
}

// subscribe listens to release notices.
func (l *Limiter) subscribe() {
	defer l.wg.Done()
	_ = l.ps.Subscribe(l.ctx, l.channel)
	for {
		msg, err := l.ps.Receive(l.ctx)
		if err != nil {
			if l.ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return
			}
			// The connection is gone; go-redis reconnects and subscribes
			// again on the next Receive. Do not spin meanwhile.
			if !l.sleep(l.jitter(l.cfg.ProbeInterval)) {
				return
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Message:
			l.keysMu.Lock()
			ks := l.keys[m.Payload]
			l.keysMu.Unlock()
			if ks != nil && ks.hasWaiters() {
				l.markDirty(ks)
			}
		case *redis.Subscription:
			// (Re)subscribed: notices may have been missed.
			l.markWaiting()
		}
	}
}

// maintain renews leases and tickets every TTL/3 while Redis is
// reachable, and probes it every ProbeInterval while it is not.
func (l *Limiter) maintain() {
	defer l.wg.Done()
	every := l.cfg.TTL / 3
	for {
		d := every
		if l.down.Load() {
			d = l.jitter(l.cfg.ProbeInterval)
		}
		if !l.sleep(d) {
			return
		}
		if l.down.Load() {
			l.probe()
			continue
		}
		l.each(l.renew)
	}
}

// renew extends the leases and tickets of ks, sends the waiters whose
// tickets were lost back to queue again, and cancels the orphaned calls.
func (l *Limiter) renew(ks *keyState) {
	for _, id := range ks.orphaned() {
		if _, err := l.run(l.ctx, cancelScript, ks, id); err == nil {
			ks.cancelled(id)
		}
	}
	ks.renewMu.Lock()
	defer ks.renewMu.Unlock()
	leases, tickets := ks.renewable()
	if len(leases)+len(tickets) == 0 {
		return
	}
	args := make([]any, 0, 1+len(leases)+len(tickets))
	args = append(args, len(leases))
	for _, id := range leases {
		args = append(args, id)
	}
	for _, id := range tickets {
		args = append(args, id)
	}
	v, err := l.run(l.ctx, renewScript, ks, args...)
	if err != nil || len(v) < 2 {
		return
	}
	l.sawLimit(ks, toInt(v[0]))
	for _, x := range v[2:] {
		if id, ok := x.(string); ok {
			ks.retry(id)
		}
	}
}

// probe pings Redis and, when it answers, makes the limiter available.
func (l *Limiter) probe() {
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.Timeout)
	err := l.rdb.Ping(ctx).Err()
	cancel()
	if err != nil {
		return
	}
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	if !l.down.Load() || l.ctx.Err() != nil {
		return
	}
	l.cause = nil
	l.down.Store(false)
	if l.cfg.OnStateChange != nil {
		l.cfg.OnStateChange(Available, nil)
	}
}

// setDown makes the limiter unavailable, once per outage, and sends the
// waiters to the fallback.
func (l *Limiter) setDown(err error) {
	l.stateMu.Lock()
	if l.down.Load() || l.ctx.Err() != nil {
		l.stateMu.Unlock()
		return
	}
	l.cause = err
	l.down.Store(true)
	if l.cfg.OnStateChange != nil {
		l.cfg.OnStateChange(Unavailable, err)
	}
	l.stateMu.Unlock()
	l.each(func(ks *keyState) { ks.retryAll() })
}

func (l *Limiter) downCause() error {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	return l.cause
}

// unreachable reports whether err means Redis could not be reached (the
// connection was refused, reset or closed, a call timed out, the pool had no
// connection), or answered that it cannot serve now (LOADING, READONLY and
// the like), as opposed to an error reply or a reply of the wrong shape.
func unreachable(err error) bool {
	var re redis.Error
	if errors.As(err, &re) {
		for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"} {
			if redis.HasErrorPrefix(err, p) {
				return true
			}
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// sleep waits d, and reports false if the limiter closed meanwhile.
func (l *Limiter) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d+1)
}
