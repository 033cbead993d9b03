package quota

import (
	"cmp"
	"slices"
	"time"

	"github.com/pacerhttp/pacer/internal/waitlist"
	"github.com/pacerhttp/pacer/transport"
)

// The kinds of budget a server announces, in [transport.RateLimits] order.
const (
	kindRequests = iota
	kindTokens
	kindInput
	kindOutput
	numKinds
)

// cost is what one request spends of each kind.
type cost [numKinds]int64

// window is the layer's view of one announced limit of one key.
type window struct {
	limit    int64
	floor    int64 // the least remaining any report announced since the refill
	reset    time.Time
	refillAt time.Time     // when the window last refilled
	span     time.Duration // the longest time to a reset a report announced
	known    bool          // a report announced this limit
	guessed  bool          // reset is a guess: the refill plus span
}

// outstanding is a reservation the server has not answered yet.
type outstanding struct {
	seq uint64
	c   cost
}

// maxOutstanding bounds the unanswered reservations a key remembers (for
// requests whose answers never come): the oldest go first.
const maxOutstanding = 1 << 14

// waiter is a request waiting for its key's budget.
type waiter struct {
	waitlist.Links[waiter]
	c        cost
	ready    chan struct{}
	seq      uint64 // set when admitted
	admitted bool
}

type waitList = waitlist.List[waiter, *waiter]

// budget is the state of one key: what the server said of each window,
// and the reservations it has not answered yet. Its methods are called
// with mu of the owning keyState held.
//
// Within a window the server's count only grows, so the least remaining
// any report announced (the floor) counts every request that reached the
// server before the one it answered; any request that reached the server
// after that one is unanswered, or its report would be lower. The floor
// less every unanswered reservation is so never above what really
// remains, and it is exact once the answers are in. When a window resets it
// is taken to be full again; reports on requests sent before then speak of
// the old window and are not taken into its floor.
type budget struct {
	w        [numKinds]window
	seq      uint64        // sequence number of the last reservation
	refilled uint64        // seq when a window last refilled
	out      []outstanding // unanswered reservations, by seq
	outSum   cost
	margin   time.Duration // added to every reset a report announces
	refunds  bool          // the server gives back what a request did not use
}

// remaining is what the budget believes is left of kind k.
func (b *budget) remaining(k int) int64 { return b.w[k].floor - b.outSum[k] }

// lacks reports whether kind k cannot cover n now. A window that is full
// (nothing spent, nothing outstanding) covers any cost: nothing better
// will come by waiting.
func (b *budget) lacks(k int, n int64) bool {
	w := &b.w[k]
	if !w.known || n <= 0 {
		return false
	}
	r := b.remaining(k)
	return r < n && !(b.outSum[k] <= 0 && w.floor >= w.limit)
}

// rateLimit returns the kind k of rl.
func rateLimit(rl *transport.RateLimits, k int) *transport.RateLimit {
	switch k {
	case kindRequests:
		return &rl.Requests
	case kindTokens:
		return &rl.Tokens
	case kindInput:
		return &rl.InputTokens
	default:
		return &rl.OutputTokens
	}
}

// refresh refills every window whose reset has passed, and guesses its
// next reset: one span later, until a report tells.
func (b *budget) refresh(now time.Time) {
	for k := range b.w {
		w := &b.w[k]
		if w.known && !w.reset.IsZero() && !now.Before(w.reset) {
			if w.limit == 0 {
				// Never told its size: forget it until the next report.
				*w = window{span: w.span}
				continue
			}
			w.floor, w.refillAt, b.refilled = w.limit, now, b.seq
			for len(b.out) > 0 && b.out[0].seq == 0 {
				b.remove(0)
			}
			w.reset, w.guessed = time.Time{}, false
			if w.span > 0 {
				w.reset, w.guessed = now.Add(w.span), true
			}
		}
	}
}

// wait returns when a request of cost c can go: now when the budget covers
// it, the latest reset among the windows that lack it otherwise. ok is
// false when a window that lacks it has no known reset, or one further
// than maxWait: then waiting is no use, and the request goes at once.
func (b *budget) wait(c *cost, now time.Time, maxWait time.Duration) (until time.Time, ok bool) {
	until = now
	for k := range b.w {
		if !b.lacks(k, c[k]) {
			continue
		}
		w := &b.w[k]
		if w.reset.IsZero() || w.reset.Sub(now) > maxWait {
			return now, false
		}
		if w.reset.After(until) {
			until = w.reset
		}
	}
	return until, true
}

// reserve spends c and returns the reservation's sequence number.
func (b *budget) reserve(c *cost) uint64 {
	b.seq++
	if len(b.out) == maxOutstanding {
		b.remove(0)
	}
	b.out = append(b.out, outstanding{seq: b.seq, c: *c})
	for k := range b.outSum {
		b.outSum[k] += c[k]
	}
	return b.seq
}

// cold adds n unanswered reservations of cost c for requests sent before
// the budget existed; they have sequence number 0, so that the report on
// each (seq 0) takes one off, and a refill drops those left.
func (b *budget) cold(n int64, c *cost) {
	n = min(n, maxOutstanding/2)
	for range n {
		b.out = append(b.out, outstanding{seq: 0, c: *c})
		for k := range b.outSum {
			b.outSum[k] += c[k]
		}
	}
	slices.SortStableFunc(b.out, func(x, y outstanding) int { return cmp.Compare(x.seq, y.seq) })
}

// unreserve gives back reservation seq, which was never sent.
func (b *budget) unreserve(seq uint64) {
	if i := searchOut(b.out, seq); i >= 0 {
		b.remove(i)
	}
}

// report applies what the response to reservation seq announced; seq 0 is
// a request that reserved nothing (sent before its key had a budget).
func (b *budget) report(seq uint64, rl *transport.RateLimits, now time.Time) {
	if i := searchOut(b.out, seq); i >= 0 {
		b.remove(i)
	}
	old := seq != 0 && seq <= b.refilled
	for k := range b.w {
		r, w := rateLimit(rl, k), &b.w[k]
		if !r.Reported {
			continue
		}
		if old {
			b.olderNews(w, r.Reset.Add(b.margin))
			continue
		}
		if r.Limit > 0 {
			w.limit = r.Limit
		}
		if !r.Reset.IsZero() {
			w.reset, w.guessed = r.Reset.Add(b.margin), false
			w.span = max(w.span, r.Reset.Sub(now))
		}
		rem := r.Remaining
		if w.limit > 0 {
			rem = min(rem, w.limit)
		}
		if !w.known || rem < w.floor {
			w.floor = rem
		}
		w.known = true
	}
}

// olderNews takes from a report on a request sent before w last refilled
// only the reset of the next window, when w has only a guess of it: a reset
// at least half a span after the refill is not the old window's.
func (b *budget) olderNews(w *window, reset time.Time) {
	if w.known && (w.reset.IsZero() || w.guessed) && reset.Sub(w.refillAt) >= w.span/2 {
		w.reset, w.guessed = reset, false
	}
}

// remove takes out[i] off the unanswered reservations.
func (b *budget) remove(i int) {
	for k := range b.outSum {
		b.outSum[k] -= b.out[i].c[k]
	}
	b.out = append(b.out[:i], b.out[i+1:]...)
}

// settle replaces the cost of reservation seq, reserved, by its real
// cost. While the server has not answered the request, its unanswered
// reservation changes. Once it has, the server's count wins, unless it
// refunds (b.refunds): then, within the same window, the floor moves by the
// difference, as the server gives back what it charged beyond the real use.
// The request count never changes.
func (b *budget) settle(seq uint64, reserved, real *cost) {
	if i := searchOut(b.out, seq); i >= 0 {
		o := &b.out[i]
		for k := kindTokens; k < numKinds; k++ {
			b.outSum[k] += real[k] - o.c[k]
			o.c[k] = real[k]
		}
		return
	}
	if !b.refunds || seq <= b.refilled {
		return
	}
	for k := kindTokens; k < numKinds; k++ {
		if w := &b.w[k]; w.known {
			w.floor = min(w.floor+reserved[k]-real[k], max(w.limit, w.floor))
		}
	}
}

// searchOut returns the index of seq in out, sorted by seq, or -1.
func searchOut(out []outstanding, seq uint64) int {
	lo, hi := 0, len(out)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if out[m].seq < seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(out) && out[lo].seq == seq {
		return lo
	}
	return -1
}
