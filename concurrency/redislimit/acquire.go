package redislimit

import (
	"context"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/transport"
)

// Acquire statuses returned by acquireScript.
const (
	statusQueued   = 0
	statusAdmitted = 1
	statusFull     = 2
)

// maxBatch bounds the tickets one process submits in one admission call.
const maxBatch = 256

// Acquire implements [concurrency.Limiter]: it takes a lease for key in
// Redis, waiting in the shared queue while the key is at its limit. While
// Redis is unreachable it takes a permit from the local fallback, or fails
// with an error wrapping [ErrUnavailable]. After Close it fails with
// [ErrClosed].
func (l *Limiter) Acquire(ctx context.Context, key string, p transport.Priority) (concurrency.Permit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ks := l.state(key)
	var timeout <-chan time.Time
	for {
		if l.ctx.Err() != nil {
			return nil, ErrClosed
		}
		if l.down.Load() {
			if l.fallback == nil {
				return nil, &UnavailableError{Key: key, Cause: l.downCause()}
			}
			return l.fallback.Acquire(ctx, key, p)
		}
		// The waiter is queued locally before its ticket exists, so that a
		// release notice arriving in between finds it.
		w := &waiter{id: l.newID(), prio: p, ch: make(chan *permit, 1)}
		ks.add(w)
		v, err := l.acquireCall(ctx, ks, w.id, p)
		if err != nil || len(v) < 5 {
			if !ks.take(w) {
				// Admitted from the queue (or told to retry) while the
				// call was out: give back what was delivered.
				giveBack(w)
			}
			if ctx.Err() != nil {
				// The caller gave up while the call was out: the call may
				// still run in Redis.
				ks.orphan(w.id)
				return nil, ctx.Err()
			}
			if l.down.Load() || l.ctx.Err() != nil {
				continue
			}
			if err == nil {
				err = errUnexpectedReply
			}
			return nil, &CallError{Op: "acquire", Key: key, Err: err}
		}
		limit, epoch, n := toInt(v[1]), int64(toInt(v[2])), toInt(v[3])
		l.sawLimit(ks, limit)
		switch toInt(v[0]) {
		case statusAdmitted:
			ks.take(w)
			return l.hold(ks, w.id, n, epoch, toInt(v[4])), nil
		case statusFull:
			ks.take(w)
			return nil, &concurrency.QueueError{Err: concurrency.ErrQueueFull, Key: key, MaxQueue: l.cfg.maxQueue}
		}
		if toInt(v[4]) > 0 {
			// Room, but the next level is a probe not due yet.
			l.kickAfter(ks, time.Duration(toInt(v[4]))*time.Microsecond)
		} else if n > 0 {
			// Room, but others queued ahead: look again at once, in case
			// their notice went by before this ticket existed.
			l.markDirty(ks)
		}
		if timeout == nil && l.cfg.QueueTimeout > 0 {
			t := time.NewTimer(l.cfg.QueueTimeout)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case pm := <-w.ch:
			if pm != nil {
				return pm, nil
			}
			// Told to try again: drop the ticket, if it still exists.
			if !l.down.Load() && l.ctx.Err() == nil {
				_, _ = l.run(context.Background(), cancelScript, ks, w.id)
			}
		case <-ctx.Done():
			return nil, l.abandon(ks, w, ctx.Err())
		case <-timeout:
			return nil, l.abandon(ks, w, &concurrency.QueueError{Err: concurrency.ErrQueueTimeout, Key: key, Timeout: l.cfg.QueueTimeout})
		}
	}
}

// acquireCall runs acquireScript for ticket id, bounded by the caller's
// ctx as well as by the limiter's life and [Config].Timeout: a caller whose
// deadline passes while Redis does not answer gets its error at once.
func (l *Limiter) acquireCall(ctx context.Context, ks *keyState, id string, p transport.Priority) ([]any, error) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(l.ctx, cancel)
	defer stop()
	return l.run(cctx, acquireScript, ks, id, int(p), l.cfg.maxQueue)
}

// abandon takes w out of the queue, leaving no trace of it, and returns
// err.
func (l *Limiter) abandon(ks *keyState, w *waiter, err error) error {
	if !ks.take(w) && giveBack(w) {
		// Delivered while giving up: its release removed the lease.
		return err
	}
	if !l.down.Load() {
		_, _ = l.run(context.Background(), cancelScript, ks, w.id)
	}
	return err
}

// giveBack waits for what was sent to a waiter taken out of the queue by
// someone else, and releases it if it was a permit; it reports whether it
// was.
func giveBack(w *waiter) bool {
	pm := <-w.ch
	if pm == nil {
		return false
	}
	pm.Release(concurrency.Feedback{Outcome: transport.Canceled})
	return true
}

// hold makes the permit for a lease just taken.
func (l *Limiter) hold(ks *keyState, id string, level int, epoch int64, base int) *permit {
	ks.mu.Lock()
	ks.held[id] = struct{}{}
	ks.mu.Unlock()
	return &permit{l: l, ks: ks, id: id, level: level, epoch: epoch, base: base}
}

// admitWaiting submits this process's waiters for ks to the shared queue
// and hands out the permits admitted.
func (l *Limiter) admitWaiting(ks *keyState) {
	ids := ks.tickets(maxBatch)
	if len(ids) == 0 {
		return
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	v, err := l.run(l.ctx, admitScript, ks, args...)
	if err != nil || len(v) < 3 {
		return
	}
	l.sawLimit(ks, toInt(v[0]))
	epoch := int64(toInt(v[1]))
	if wait := toInt(v[2]); wait > 0 {
		l.kickAfter(ks, time.Duration(wait)*time.Microsecond)
	}
	for i := 3; i+2 < len(v); i += 3 {
		id, _ := v[i].(string)
		pm := &permit{l: l, ks: ks, id: id, level: toInt(v[i+1]), epoch: epoch, base: toInt(v[i+2])}
		// A waiter no longer waiting gave up: its cancel call removes the
		// lease.
		ks.deliver(pm)
	}
}
