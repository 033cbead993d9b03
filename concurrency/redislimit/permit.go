package redislimit

import (
	"context"

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
}

// Release implements [concurrency.Permit]: it stops renewing the lease,
// and in one Redis call learns from fb, removes the lease and notifies the
// waiters. It takes one round trip, bounded by [Config].Timeout; while
// Redis is unreachable it makes no call and the lease expires within the
// TTL.
func (pm *permit) Release(fb concurrency.Feedback) {
	ks, l := pm.ks, pm.l
	ks.mu.Lock()
	delete(ks.held, pm.id)
	ks.mu.Unlock()
	if l.down.Load() {
		return
	}
	v, err := l.run(context.Background(), releaseScript, ks, pm.id, kind(fb), pm.level, pm.epoch, fb.Latency.Microseconds(), pm.base)
	if err != nil || len(v) < 2 {
		return
	}
	l.sawLimit(ks, toInt(v[0]))
}

// kind is what the limit may learn from fb (see [concurrency.Limiter]).
func kind(fb concurrency.Feedback) int {
	switch fb.Outcome {
	case transport.RateLimited:
		return learnLimited
	case transport.OK:
		if fb.ScheduleWait > 0 {
			return learnBusy
		}
		return learnOK
	case transport.Overloaded:
		return learnBusy
	}
	return learnNothing
}
