package retry

import (
	"testing"
	"time"
)

func TestBudgetFloorAndRatio(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	b := newBudget(0.2, 2, 10*time.Second)
	// No traffic: the floor alone allows two retries.
	if got := allowed(b, now, 3); got != 2 {
		t.Fatalf("floor of 2: %d of 3 retries allowed", got)
	}
	// 10 requests add 0.2 × 10 = 2 more.
	for range 10 {
		b.request(now)
	}
	if got := allowed(b, now, 3); got != 2 {
		t.Fatalf("ratio of 0.2 over 10 requests: %d of 3 more retries allowed", got)
	}
}

// allowed asks b for n retries at now and returns how many it allowed.
func allowed(b *budget, now time.Time, n int) int {
	k := 0
	for range n {
		if b.allowRetry(now) {
			k++
		}
	}
	return k
}

func TestBudgetWindowSlides(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	b := newBudget(0, 1, 10*time.Second) // ratio 0 here means none; floor 1
	if !b.allowRetry(start) || b.allowRetry(start) {
		t.Fatal("floor of 1 not applied")
	}
	if b.allowRetry(start.Add(9 * time.Second)) {
		t.Fatal("retry counted 9s ago expired early")
	}
	if !b.allowRetry(start.Add(10 * time.Second)) {
		t.Fatal("retry counted 10s ago still in the window")
	}
	// A long idle gap clears everything; a clock going backwards counts into
	// the newest slot.
	later := start.Add(time.Hour)
	if !b.allowRetry(later) || b.allowRetry(later.Add(-time.Minute)) {
		t.Fatal("window after a gap or a clock step back")
	}
}

func TestBudgetRequestsExpire(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	b := newBudget(0.5, 0, 10*time.Second)
	b.request(start)
	b.request(start)
	if b.allowRetry(start.Add(11 * time.Second)) {
		t.Fatal("requests from 11s ago still fund retries")
	}
	b.request(start.Add(12 * time.Second))
	b.request(start.Add(12 * time.Second))
	if !b.allowRetry(start.Add(13*time.Second)) || b.allowRetry(start.Add(13*time.Second)) {
		t.Fatal("0.5 × 2 recent requests should allow exactly one retry")
	}
}

func TestBudgetDisabled(t *testing.T) {
	b := newBudget(-1, 0, time.Second)
	for range 100 {
		if !b.allowRetry(time.Unix(0, 0)) {
			t.Fatal("a disabled budget denied a retry")
		}
	}
}

func TestBudgetConfigDefaults(t *testing.T) {
	r := New(Config{})
	if r.budget.ratio != DefaultBudgetRatio || r.budget.floor != DefaultBudgetMinRetries || r.budget.slot != int64(DefaultBudgetWindow/budgetSlots) {
		t.Fatalf("budget %+v", r.budget)
	}
	if r.maxAttempts != DefaultMaxAttempts || r.maxRetryAfter != DefaultMaxRetryAfter {
		t.Fatal("defaults")
	}
}

func TestBudgetConcurrent(t *testing.T) {
	b := newBudget(0.2, 10, time.Second)
	done := make(chan int)
	for range 4 {
		go func() {
			n := 0
			for range 1000 {
				b.request(time.Unix(5, 0))
				if b.allowRetry(time.Unix(5, 0)) {
					n++
				}
			}
			done <- n
		}()
	}
	total := 0
	for range 4 {
		total += <-done
	}
	if total > 10+800 {
		t.Fatalf("%d retries allowed for 4000 requests, want at most 810", total)
	}
}
