package retry

import (
	"sync"
	"time"
)

// budgetSlots is how many slots a budget window is divided into. Counts
// expire one slot at a time, so the window slides in steps of window/10.
const budgetSlots = 10

// budget bounds retries to a share of the requests seen over a sliding
// window: a retry is allowed when the retries already made in the window,
// plus this one, do not exceed floor + ratio × requests in the window. The
// window is a ring of counters per slot; advancing the clock clears the slots
// that fell out of it. It is safe for concurrent use.
type budget struct {
	ratio    float64 // negative: no budget
	floor    float64
	slot     int64 // nanoseconds per slot
	mu       sync.Mutex
	head     int64 // absolute number of the newest slot
	requests [budgetSlots]int64
	retries  [budgetSlots]int64
}

func newBudget(ratio float64, floor int, window time.Duration) *budget {
	slot := int64(window) / budgetSlots
	if slot < 1 {
		slot = 1
	}
	return &budget{ratio: ratio, floor: float64(floor), slot: slot}
}

// advance moves the ring to now and returns the index of the current slot.
// A clock that goes backwards counts into the newest slot.
func (b *budget) advance(now time.Time) int {
	abs := now.UnixNano() / b.slot
	if abs > b.head {
		n := abs - b.head
		if n > budgetSlots {
			n = budgetSlots
		}
		for i := int64(1); i <= n; i++ {
			j := (b.head + i) % budgetSlots
			if j < 0 {
				j += budgetSlots
			}
			b.requests[j], b.retries[j] = 0, 0
		}
		b.head = abs
	}
	i := b.head % budgetSlots
	if i < 0 {
		i += budgetSlots
	}
	return int(i)
}

// request counts one incoming request.
func (b *budget) request(now time.Time) {
	if b.ratio < 0 {
		return
	}
	b.mu.Lock()
	b.requests[b.advance(now)]++
	b.mu.Unlock()
}

// allowRetry reports whether one more retry fits in the budget, and counts
// it when it does.
func (b *budget) allowRetry(now time.Time) bool {
	if b.ratio < 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.advance(now)
	var requests, retries int64
	for k := range budgetSlots {
		requests += b.requests[k]
		retries += b.retries[k]
	}
	if float64(retries+1) > b.floor+b.ratio*float64(requests) {
		return false
	}
	b.retries[i]++
	return true
}
