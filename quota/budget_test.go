package quota

import (
	"testing"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func reqReport(limit, remaining int64, reset time.Time) *transport.RateLimits {
	return &transport.RateLimits{Requests: transport.RateLimit{Limit: limit, Remaining: remaining, Reset: reset, Reported: true}}
}

func tokReport(limit, remaining int64, reset time.Time) *transport.RateLimits {
	return &transport.RateLimits{Tokens: transport.RateLimit{Limit: limit, Remaining: remaining, Reset: reset, Reported: true}}
}

func one() *cost { return &cost{kindRequests: 1} }

func TestBudgetReserveAndReport(t *testing.T) {
	var b budget
	reset := t0.Add(time.Second)
	b.report(0, reqReport(10, 9, reset), t0)
	s1, s2, s3 := b.reserve(one()), b.reserve(one()), b.reserve(one())
	if got := b.remaining(kindRequests); got != 6 {
		t.Fatalf("remaining after three reservations = %d, want 6", got)
	}
	// They reach the server in the order s3, s1, s2 (its counts 8, 7, 6)
	// and are answered in the order s1, s3, s2.
	b.report(s1, reqReport(10, 7, reset), t0)
	if got := b.remaining(kindRequests); got != 5 {
		t.Fatalf("after s1's report: %d, want 7 less s2 and s3 (which may not have arrived)", got)
	}
	b.report(s3, reqReport(10, 8, reset), t0)
	if got := b.remaining(kindRequests); got != 6 {
		t.Fatalf("after s3's report: %d, want the floor 7 less s2", got)
	}
	b.report(s2, reqReport(10, 6, reset), t0)
	if got := b.remaining(kindRequests); got != 6 {
		t.Fatalf("after every report: %d, want the server's 6", got)
	}
	if len(b.out) != 0 || b.outSum != (cost{}) {
		t.Fatalf("outstanding after every report: %v %v", b.out, b.outSum)
	}
}

func TestBudgetWaitAndRefill(t *testing.T) {
	var b budget
	reset := t0.Add(2 * time.Second)
	b.report(0, reqReport(2, 1, reset), t0)
	if until, ok := b.wait(one(), t0, time.Minute); !ok || !until.Equal(t0) {
		t.Fatalf("wait with budget left = %v %v", until, ok)
	}
	s1 := b.reserve(one())
	if until, ok := b.wait(one(), t0, time.Minute); !ok || !until.Equal(reset) {
		t.Fatalf("wait with none left = %v %v, want the reset", until, ok)
	}
	if _, ok := b.wait(one(), t0, time.Second); ok {
		t.Fatal("waited for a reset past maxWait")
	}
	b.refresh(reset)
	guess := reset.Add(2 * time.Second)
	if w := b.w[kindRequests]; b.remaining(kindRequests) != 1 || !w.reset.Equal(guess) || !w.guessed {
		t.Fatalf("after the reset: %+v, want the full window less s1, unanswered, and a guessed reset one span on", w)
	}
	// s1's report speaks of the old window: it takes s1 off, but not its
	// count into the new window's.
	b.report(s1, reqReport(2, 0, reset), reset)
	if got := b.remaining(kindRequests); got != 2 {
		t.Fatalf("after an old report: %d, want the full window", got)
	}
	b.reserve(one())
	b.reserve(one())
	if until, ok := b.wait(one(), reset, time.Minute); !ok || !until.Equal(guess) {
		t.Fatalf("wait for the guessed reset = %v %v", until, ok)
	}
	// A report from before the refill whose reset is the next window's
	// replaces the guess; one with the old window's reset does not.
	b.report(s1, reqReport(2, 0, reset.Add(10*time.Millisecond)), reset)
	if w := b.w[kindRequests]; !w.reset.Equal(guess) {
		t.Fatalf("the old window's reset replaced the guess: %v", w.reset)
	}
	next := reset.Add(1500 * time.Millisecond)
	b.report(s1, reqReport(2, 0, next), reset)
	if w := b.w[kindRequests]; !w.reset.Equal(next) || w.guessed {
		t.Fatalf("after an old report of the next window: %+v", w)
	}
	// Without any span known, an unknown reset is not waited for.
	var c budget
	c.report(0, &transport.RateLimits{Requests: transport.RateLimit{Limit: 1, Remaining: 0, Reported: true}}, t0)
	if _, ok := c.wait(one(), t0, time.Minute); ok {
		t.Fatal("waited for an unknown reset")
	}
}

func TestBudgetLargerThanWindow(t *testing.T) {
	var b budget
	b.report(0, tokReport(100, 100, t0.Add(time.Second)), t0)
	big := &cost{kindRequests: 1, kindTokens: 500}
	if until, ok := b.wait(big, t0, time.Minute); !ok || !until.Equal(t0) {
		t.Fatal("a cost larger than a full window waited: nothing better will come")
	}
	b.reserve(&cost{kindTokens: 1})
	if until, _ := b.wait(big, t0, time.Minute); !until.After(t0) {
		t.Fatal("a cost larger than a window that is not full did not wait for it to refill")
	}
}

func TestBudgetSettle(t *testing.T) {
	b := budget{refunds: true}
	reset := t0.Add(time.Minute)
	b.report(0, tokReport(1000, 1000, reset), t0)
	c := &cost{kindRequests: 1, kindTokens: 300}
	s1, s2 := b.reserve(c), b.reserve(c)
	// s1 settles before it is answered: its outstanding cost changes.
	b.settle(s1, c, &cost{kindRequests: 1, kindTokens: 60})
	if got := b.remaining(kindTokens); got != 640 {
		t.Fatalf("remaining after settling 300 to 60 = %d, want 640", got)
	}
	// s2 settles after its answer, which counted 300: the server is taken
	// to give back the 290 it did not use.
	b.report(s2, tokReport(1000, 700, reset), t0)
	b.settle(s2, c, &cost{kindRequests: 1, kindTokens: 10})
	if got := b.remaining(kindTokens); got != 990-60 {
		t.Fatalf("remaining after settling an answered request = %d, want 930", got)
	}
	if got := b.remaining(kindRequests); got != 0 && b.w[kindRequests].known {
		t.Fatalf("requests changed by a settlement: %d", got)
	}
	// A server that did not give it back says so in its next report.
	s3 := b.reserve(c)
	b.report(s3, tokReport(1000, 400, reset), t0)
	if got := b.remaining(kindTokens); got != 400-60 {
		t.Fatalf("after the next report: %d, want its 400 less s1", got)
	}
	b.unreserve(s1)
	b.unreserve(99) // unknown: nothing happens
	if got := b.remaining(kindTokens); got != 400 {
		t.Fatalf("after unreserving s1: %d, want 400", got)
	}
	// Settling never lifts the floor above the limit, nor acts on a request
	// from before a refill.
	b.settle(s3, &cost{kindTokens: 5000}, &cost{})
	if got := b.remaining(kindTokens); got != 1000 {
		t.Fatalf("floor lifted to %d, want at most the limit", got)
	}
	b.refresh(reset)
	b.settle(s3, &cost{}, &cost{kindTokens: 700})
	if got := b.remaining(kindTokens); got != 1000 {
		t.Fatalf("an old request's settlement changed the new window: %d", got)
	}
	// Without refunds, an answered reservation keeps the server's count.
	var n budget
	n.report(0, tokReport(1000, 1000, reset), t0)
	s4 := n.reserve(c)
	n.report(s4, tokReport(1000, 700, reset), t0)
	n.settle(s4, c, &cost{kindRequests: 1, kindTokens: 10})
	if got := n.remaining(kindTokens); got != 700 {
		t.Fatalf("without refunds, a settlement moved remaining to %d", got)
	}
}

func TestBudgetWindowShrinks(t *testing.T) {
	var b budget
	reset := t0.Add(time.Second)
	b.report(0, reqReport(10, 9, reset), t0)
	s := b.reserve(one())
	b.report(s, reqReport(4, 0, reset), t0)
	if w := b.w[kindRequests]; w.limit != 4 || b.remaining(kindRequests) != 0 {
		t.Fatalf("after the limit fell: %+v", w)
	}
	if until, ok := b.wait(one(), t0, time.Minute); !ok || !until.Equal(reset) {
		t.Fatalf("wait after the limit fell = %v %v", until, ok)
	}
	b.refresh(reset)
	if got := b.remaining(kindRequests); got != 4 {
		t.Fatalf("refilled to %d, want the new limit 4", got)
	}
}

func TestBudgetOutstandingBound(t *testing.T) {
	var b budget
	b.report(0, reqReport(1<<40, 1<<40, t0.Add(time.Hour)), t0)
	for range maxOutstanding + 10 {
		b.reserve(&cost{kindRequests: 1, kindTokens: 2})
	}
	if len(b.out) != maxOutstanding || b.outSum[kindTokens] != 2*maxOutstanding {
		t.Fatalf("outstanding %d (sum %d), want %d", len(b.out), b.outSum[kindTokens], maxOutstanding)
	}
}
