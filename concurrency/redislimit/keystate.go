package redislimit

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pacerhttp/pacer/internal/waitlist"
	"github.com/pacerhttp/pacer/transport"
)

// keyState is what one process knows of one key: the leases it holds (to
// renew them) and its requests waiting in the shared queue, in local
// priority and arrival order.
type keyState struct {
	key   string
	rkeys []string     // leases, queue, tickets, state
	limit atomic.Int64 // the shared limit as last seen

	// renewMu is held by a renewal from its reading of held to the end of
	// its call, and by a release while it takes its lease out of held, so
	// that a renewal, which puts back leases Redis lost, never puts back
	// one already released.
	renewMu sync.Mutex

	mu      sync.Mutex
	kick    *time.Timer // pending look at the queue when a probe is due
	held    map[string]struct{}
	waiting map[string]*waiter
	// orphans are the ids of acquire calls given up while Redis did not
	// answer: a frozen Redis may still run them when it resumes, taking a
	// lease nobody holds. The renewal loop cancels each on two ticks in a
	// row, by when any such late call has run (orphans[id] counts them).
	orphans map[string]int
	queue   [2]waitList // Interactive, Background
}

// waiter is one request waiting in the shared queue under ticket id.
type waiter struct {
	waitlist.Links[waiter]
	id   string
	prio transport.Priority
	// ch receives the permit, or nil to tell the waiter to try again
	// (Redis became unreachable, its ticket was lost, or the limiter
	// closed). It is sent at most once, by whoever takes the waiter out of
	// the queue under mu.
	ch chan *permit
}

// add queues w locally.
func (ks *keyState) add(w *waiter) {
	ks.mu.Lock()
	ks.waiting[w.id] = w
	ks.queue[queueIndex(w.prio)].PushBack(w)
	ks.mu.Unlock()
}

// take removes w if it is still waiting, and reports whether it was.
func (ks *keyState) take(w *waiter) bool {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.takeLocked(w)
}

func (ks *keyState) takeLocked(w *waiter) bool {
	if ks.waiting[w.id] != w {
		return false
	}
	delete(ks.waiting, w.id)
	ks.queue[queueIndex(w.prio)].Remove(w)
	return true
}

// deliver hands pm to the waiter with pm's id, and reports whether one was
// still waiting.
func (ks *keyState) deliver(pm *permit) bool {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	w := ks.waiting[pm.id]
	if w == nil || !ks.takeLocked(w) {
		return false
	}
	ks.held[pm.id] = struct{}{}
	w.ch <- pm
	return true
}

// retry tells the waiter with ticket id, if still waiting, to try again.
func (ks *keyState) retry(id string) {
	ks.mu.Lock()
	if w := ks.waiting[id]; w != nil && ks.takeLocked(w) {
		w.ch <- nil
	}
	ks.mu.Unlock()
}

// retryAll tells every waiter to try again, in queue order.
func (ks *keyState) retryAll() {
	ks.mu.Lock()
	for i := range ks.queue {
		for w := ks.queue[i].Front(); w != nil; w = ks.queue[i].Front() {
			ks.takeLocked(w)
			w.ch <- nil
		}
	}
	ks.mu.Unlock()
}

// hasWaiters reports whether any request of this process waits for key.
func (ks *keyState) hasWaiters() bool {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return len(ks.waiting) > 0
}

// tickets returns the ids of up to n waiters, in local order.
func (ks *keyState) tickets(n int) []string {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ids := make([]string, 0, min(n, len(ks.waiting)))
	for i := range ks.queue {
		for w := range ks.queue[i].All() {
			if len(ids) == n {
				return ids
			}
			ids = append(ids, w.id)
		}
	}
	return ids
}

// renewable returns the ids of the leases held and the tickets waiting.
func (ks *keyState) renewable() (leases, tickets []string) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	for id := range ks.held {
		leases = append(leases, id)
	}
	for id := range ks.waiting {
		tickets = append(tickets, id)
	}
	return leases, tickets
}

func queueIndex(p transport.Priority) int {
	if p == transport.Interactive {
		return 0
	}
	return 1
}

// waitList is a FIFO list of waiters.
type waitList = waitlist.List[waiter, *waiter]

// orphan records the id of an acquire call given up while it was out.
func (ks *keyState) orphan(id string) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.orphans == nil {
		ks.orphans = make(map[string]int)
	}
	ks.orphans[id] = 0
}

// orphaned returns the ids of the orphaned calls still to cancel.
func (ks *keyState) orphaned() []string {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ids := make([]string, 0, len(ks.orphans))
	for id := range ks.orphans {
		ids = append(ids, id)
	}
	return ids
}

// cancelled counts a successful cancel of an orphaned call; after two, on
// two renewal ticks, any late run of the call is over and undone.
func (ks *keyState) cancelled(id string) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.orphans[id]++; ks.orphans[id] >= 2 {
		delete(ks.orphans, id)
	}
}
