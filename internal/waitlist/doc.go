// Package waitlist is an intrusive FIFO list for queues of waiters: push at
// the back, take from the front or from anywhere, all in O(1) and without
// allocating. An element joins by embedding [Links]; it is on at most one
// list at a time. A List is not safe for concurrent use: its owner guards
// it, as it guards the waiters.
package waitlist
