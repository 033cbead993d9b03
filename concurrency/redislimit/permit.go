package redislimit

import (
	"context"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/transport"
)

// Feedback kinds passed to releaseScript.
const (
	learnNothing = 0
	learnOK      = 1
	learnLimited = 2
	learnBusy    = 3
)

// permit is a lease held in Redis.
type permit struct {
	l     *Limiter
	ks    *keyState
	id    string
	level int   // in flight over all processes at admission, itself included
	epoch int64 // the key's decrease count at admission
	base  int   // the limit admitted freely at admission
	// learned is set when Responded taught the shared limit already.
	learned bool
}

// Release implements [concurrency.Permit]: it stops renewing the lease,
// and in one Redis call learns from fb, removes the lease and notifies the
// waiters. It takes one round trip, bounded by [Config].Timeout; while
// Redis is unreachable it makes no call and the lease expires within the
// TTL.
func (pm *permit) Release(fb concurrency.Feedback) {
	ks, l := pm.ks, pm.l
	ks.renewMu.Lock()
	ks.mu.Lock()
	delete(ks.held, pm.id)
	ks.mu.Unlock()
	ks.renewMu.Unlock()
	if l.down.Load() {
		return
	}
	k, latency := kind(fb), fb.Latency.Microseconds()
	var hold int64
	if !fb.Admitted.IsZero() {
		hold = time.Since(fb.Admitted).Microseconds()
	}
	if pm.learned {
		k, latency, hold = learnNothing, 0, 0
	}
	v, err := l.run(context.Background(), releaseScript, ks, pm.id, k, pm.level, pm.epoch, latency, pm.base, 0, hold)
	if err != nil || len(v) < 2 {
		return
	}
	l.sawLimit(ks, toInt(v[0]))
}

// Responded implements [concurrency.Responder]: a sign that the platform is
// full (a response that waited to be scheduled, or a 503) teaches the shared
// limit when the response starts, in one call that keeps the lease, so that
// it undoes the raises made while the request waited and not those made
// while a stream was read; Release then teaches nothing more. Anything else
// waits for Release. While Redis is unreachable it does nothing.
func (pm *permit) Responded(fb concurrency.Feedback) {
	l := pm.l
	if l.cfg.Limit > 0 || kind(fb) != learnBusy || l.down.Load() {
		return
	}
	v, err := l.run(context.Background(), releaseScript, pm.ks, pm.id, learnBusy, pm.level, pm.epoch, fb.Latency.Microseconds(), pm.base, 1, 0)
	if err != nil || len(v) < 2 {
		return
	}
	pm.learned = true
	l.sawLimit(pm.ks, toInt(v[0]))
}

// kind is what the limit may learn from fb (see [concurrency.Limiter]).
func kind(fb concurrency.Feedback) int {
	switch fb.Outcome {
	case transport.RateLimited:
		return learnLimited
	case transport.OK:
		if fb.Busy() {
			return learnBusy
		}
		return learnOK
	case transport.Overloaded:
		return learnBusy
	}
	return learnNothing
}
