package concurrency

// waiter is one request queued for a permit. It is linked into its key's
// list for its priority; the releasing goroutine sets permit and closes
// ready, under the key's lock.
type waiter struct {
	prev, next *waiter
	ready      chan struct{}
	permit     *localPermit
}

// waitList is an intrusive FIFO list of waiters: push at the back, pop at
// the front, remove from anywhere, all O(1) and without allocating.
type waitList struct {
	head, tail *waiter
}

func (l *waitList) push(w *waiter) {
	w.prev, w.next = l.tail, nil
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
}

func (l *waitList) pop() *waiter {
	w := l.head
	if w != nil {
		l.remove(w)
	}
	return w
}

func (l *waitList) remove(w *waiter) {
	if w.prev == nil {
		l.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		l.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next = nil, nil
}
