package quota

import (
	"context"
	"sync"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// keyState is one key's budget and the requests waiting for it.
type keyState struct {
	q   *Quota
	key string

	mu      sync.Mutex
	b       budget
	queues  [2]waitList // by priority: Interactive, Background
	waiting int
	timer   *time.Timer
	timerAt time.Time
}

func prioIndex(p transport.Priority) int {
	if p == transport.Interactive {
		return 0
	}
	return 1
}

// acquire reserves c, waiting in priority order while the budget does not
// cover it and its window resets soon enough, and returns the
// reservation's sequence number.
func (ks *keyState) acquire(ctx context.Context, c *cost, prio transport.Priority) (uint64, error) {
	q := ks.q
	now := q.now()
	p := prioIndex(prio)
	ks.mu.Lock()
	ks.b.refresh(now)
	until, ok := ks.b.wait(c, now, q.maxWait)
	if !ok || (!until.After(now) && !ks.aheadLocked(p)) {
		seq := ks.b.reserve(c)
		ks.mu.Unlock()
		return seq, nil
	}
	if q.maxQueue < 0 || ks.waiting >= q.maxQueue {
		ks.mu.Unlock()
		return 0, &WaitError{Err: ErrQueueFull, Key: ks.key}
	}
	w := &waiter{c: *c, ready: make(chan struct{})}
	ks.queues[p].PushBack(w)
	ks.waiting++
	ks.admitLocked(now)
	ks.mu.Unlock()

	var timeout <-chan time.Time
	if q.queueTimeout > 0 {
		t := time.NewTimer(q.queueTimeout)
		defer t.Stop()
		timeout = t.C
	}
	var werr *WaitError
	select {
	case <-w.ready:
		return w.seq, nil
	case <-ctx.Done():
		werr = &WaitError{Err: ErrWaitCanceled, Cause: ctx.Err(), Key: ks.key}
	case <-timeout:
		werr = &WaitError{Err: ErrQueueTimeout, Key: ks.key}
	}
	ks.mu.Lock()
	if w.admitted {
		ks.b.unreserve(w.seq)
	} else {
		ks.queues[p].Remove(w)
		ks.waiting--
	}
	ks.admitLocked(q.now())
	ks.mu.Unlock()
	werr.Waited = q.now().Sub(now)
	return 0, werr
}

// aheadLocked reports whether a request of priority index p must queue
// behind waiting ones: some wait at its priority or a more urgent one.
func (ks *keyState) aheadLocked(p int) bool {
	for i := 0; i <= p; i++ {
		if ks.queues[i].Front() != nil {
			return true
		}
	}
	return false
}

// admitLocked admits waiters, most urgent first and in order within a
// priority, while the budget covers them, and arms the timer for the reset
// the first one left waits for. A waiter that does not fit holds back every
// waiter behind it, so a large request is not starved by small ones.
func (ks *keyState) admitLocked(now time.Time) {
	if ks.waiting == 0 {
		return
	}
	q := ks.q
	for p := range ks.queues {
		for w := ks.queues[p].Front(); w != nil; w = ks.queues[p].Front() {
			until, ok := ks.b.wait(&w.c, now, q.maxWait)
			if ok && until.After(now) {
				ks.armLocked(until, now)
				return
			}
			ks.queues[p].Remove(w)
			ks.waiting--
			w.seq, w.admitted = ks.b.reserve(&w.c), true
			close(w.ready)
		}
	}
}

// armLocked makes the key's timer fire at until.
func (ks *keyState) armLocked(until, now time.Time) {
	if until.Equal(ks.timerAt) {
		return
	}
	ks.timerAt = until
	if ks.timer == nil {
		ks.timer = time.AfterFunc(until.Sub(now), ks.wake)
		return
	}
	ks.timer.Reset(until.Sub(now))
}

// wake runs when a window the first waiter needs resets.
func (ks *keyState) wake() {
	now := ks.q.now()
	ks.mu.Lock()
	ks.timerAt = time.Time{}
	ks.b.refresh(now)
	ks.admitLocked(now)
	ks.mu.Unlock()
}

// report applies the rate limits the response to reservation seq announced
// (seq 0: a request sent before the key had a budget).
func (ks *keyState) report(seq uint64, rl *transport.RateLimits) {
	now := ks.q.now()
	ks.mu.Lock()
	ks.b.report(seq, rl, now)
	ks.b.refresh(now)
	ks.admitLocked(now)
	ks.mu.Unlock()
}

// settle replaces reservation seq's cost by its real cost.
func (ks *keyState) settle(seq uint64, reserved, real *cost) {
	now := ks.q.now()
	ks.mu.Lock()
	ks.b.settle(seq, reserved, real)
	ks.admitLocked(now)
	ks.mu.Unlock()
}

// stats returns the key's state.
func (ks *keyState) stats() KeyStats {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	var s KeyStats
	for k, w := range ks.b.w {
		bs := Budget{Limit: w.limit, Remaining: max(ks.b.remaining(k), 0), Reset: w.reset, Known: w.known}
		switch k {
		case kindRequests:
			s.Requests = bs
		case kindTokens:
			s.Tokens = bs
		case kindInput:
			s.InputTokens = bs
		default:
			s.OutputTokens = bs
		}
	}
	s.Waiting = ks.waiting
	s.Outstanding = len(ks.b.out)
	return s
}

// tokensKnown reports whether the server announced a token window.
func (ks *keyState) tokensKnown() bool {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.b.w[kindTokens].known || ks.b.w[kindInput].known || ks.b.w[kindOutput].known
}

// cold records n requests sent before the key had a budget and not yet
// answered, each of cost c.
func (ks *keyState) cold(n int64, c *cost) {
	ks.mu.Lock()
	ks.b.cold(n, c)
	ks.mu.Unlock()
}
