package concurrency

import "github.com/pacerhttp/pacer/internal/waitlist"

// waiter is one request queued for a permit. It is linked into its key's
// list for its priority; the releasing goroutine sets permit and closes
// ready, under the key's lock.
type waiter struct {
	waitlist.Links[waiter]
	ready  chan struct{}
	permit *localPermit
}

// waitList is a FIFO list of waiters.
type waitList = waitlist.List[waiter, *waiter]
