package quota

import (
	"net/http"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// FuzzHasRateLimits checks the cheap presence test against the full
// parse: whenever the parse finds a remaining count (one above zero: a
// zero is what an absent count reads as), so does the test.
func FuzzHasRateLimits(f *testing.F) {
	f.Add("x-ratelimit-remaining-requests", "12", "x-ratelimit-reset-requests", "1s")
	f.Add("anthropic-ratelimit-output-tokens-remaining", "0", "content-type", "application/json")
	f.Add("x-ratelimit-limit-tokens", "100", "x-ratelimit-remaining-tokens", "-1")
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		h := http.Header{}
		h.Add(k1, v1)
		h.Add(k2, v2)
		rl := transport.ParseRateLimits(h, now)
		has := hasRateLimits(h)
		for k := range numKinds {
			r := rateLimit(&rl, k)
			if r.Remaining > 0 && !has {
				t.Fatalf("a remaining count was parsed from %q but not noticed", h)
			}
		}
	})
}

// FuzzBudget runs random sequences of reservations, reports, settlements,
// refills and cancellations, and checks the budget's invariants after
// each step.
func FuzzBudget(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 0, 0, 1, 9, 200, 7})
	f.Add([]byte{1, 0, 0, 0, 2, 2, 3, 3, 4, 4, 5, 5, 1, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var b budget
		now := t0
		var seqs []uint64
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%6, int64(ops[i+1])
			pick := func() uint64 {
				if len(seqs) == 0 {
					return 0
				}
				return seqs[int(arg)%len(seqs)]
			}
			switch op {
			case 0:
				seqs = append(seqs, b.reserve(&cost{kindRequests: 1, kindTokens: arg}))
			case 1:
				rl := transport.RateLimits{
					Requests: transport.RateLimit{Limit: 50, Remaining: arg % 51, Reset: now.Add(time.Duration(arg) * time.Millisecond), Reported: true},
					Tokens:   transport.RateLimit{Limit: 1000, Remaining: arg * 4, Reset: now.Add(time.Second), Reported: arg%3 != 0},
				}
				b.report(pick(), &rl, now)
			case 2:
				b.settle(pick(), &cost{kindRequests: 1, kindTokens: arg}, &cost{kindRequests: 1, kindTokens: arg / 2})
			case 3:
				now = now.Add(time.Duration(arg) * 10 * time.Millisecond)
				b.refresh(now)
			case 4:
				b.unreserve(pick())
			case 5:
				_, _ = b.wait(&cost{kindRequests: 1, kindTokens: arg}, now, time.Second)
			}
			var sum cost
			for j, o := range b.out {
				if j > 0 && b.out[j-1].seq >= o.seq {
					t.Fatalf("step %d: outstanding out of order: %v", i, b.out)
				}
				for k := range sum {
					sum[k] += o.c[k]
				}
			}
			if sum != b.outSum {
				t.Fatalf("step %d: outSum %v, outstanding add up to %v", i, b.outSum, sum)
			}
			for k := range b.w {
				if w := b.w[k]; w.known && w.limit > 0 && w.floor > w.limit {
					t.Fatalf("step %d: kind %d floor %d above limit %d", i, k, w.floor, w.limit)
				}
			}
		}
	})
}
