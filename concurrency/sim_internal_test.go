package concurrency

import (
	"testing"
	"time"
)

// stepServer is the workload of the goodput benchmark, simulated: limit
// 16 → 6 → 24 every 2s, 40ms service, 429s back in 0.3ms, burst punishment.
func stepServer(phases []simPhase, requests int) *simServer {
	return &simServer{
		phases:   phases,
		service:  40 * time.Millisecond,
		fast:     300 * time.Microsecond,
		lag:      100 * time.Microsecond,
		jitter:   2 * time.Millisecond,
		punish:   true,
		requests: requests,
		maxTime:  time.Minute,
		backlog:  32,
	}
}

// TestSimFollowsStep drives the real limiter through the simulated step
// server on a virtual clock: deterministic, and fast.
func TestSimFollowsStep(t *testing.T) {
	s := stepServer([]simPhase{{16, 2 * time.Second}, {6, 2 * time.Second}, {24, 2 * time.Second}}, 1<<30)
	s.maxTime = 6 * time.Second
	var at []time.Duration
	var limits []int
	s.onRelease = func(now time.Duration, limit int) {
		at = append(at, now)
		limits = append(limits, limit)
	}
	r := s.run(newLocal(Config{}))
	limitAt := func(d time.Duration) (lo, hi int) {
		lo, hi = 1<<30, 0
		for i, a := range at {
			if a >= d && a < d+100*time.Millisecond {
				lo, hi = min(lo, limits[i]), max(hi, limits[i])
			}
		}
		return lo, hi
	}
	// Within 10 round trips of each step, the limit is near the new level
	// and stays there.
	for _, c := range []struct {
		from     time.Duration
		low, top int
	}{
		{400 * time.Millisecond, 14, 18},
		{1900 * time.Millisecond, 14, 18},
		{2400 * time.Millisecond, 5, 8},
		{3900 * time.Millisecond, 5, 8},
		{4400 * time.Millisecond, 20, 26},
		{5900 * time.Millisecond, 20, 26},
	} {
		if lo, hi := limitAt(c.from); lo < c.low || hi > c.top {
			t.Errorf("limit in [%v, +100ms) between %d and %d, want within [%d, %d]", c.from, lo, hi, c.low, c.top)
		}
	}
	t.Logf("6s: %d ok, %d 429s (%.1f%%), goodput/ideal %.3f", r.ok, r.limited, 100*r.share429(), r.goodputRatio(s))
	if r.punished > 0 || r.share429() > 0.03 || r.goodputRatio(s) < 0.9 {
		t.Errorf("punished %d times, 429 share %.3f, goodput/ideal %.3f; want 0, ≤ 0.03, ≥ 0.9",
			r.punished, r.share429(), r.goodputRatio(s))
	}
}

func TestSimGoodput(t *testing.T) {
	for _, c := range []struct {
		name   string
		phases []simPhase
		ratio  float64
	}{
		{"step", []simPhase{{16, 2 * time.Second}, {6, 2 * time.Second}, {24, 2 * time.Second}}, 0.9},
		{"steady16", []simPhase{{16, time.Second}}, 0.95},
	} {
		s := stepServer(c.phases, 1500)
		r := s.run(newLocal(Config{}))
		t.Logf("%s: %d ok, %d 429s (%.1f%%), goodput/ideal %.3f", c.name, r.ok, r.limited, 100*r.share429(), r.goodputRatio(s))
		if r.punished > 0 || r.share429() > 0.03 || r.goodputRatio(s) < c.ratio {
			t.Errorf("%s: punished %d times, 429 share %.3f, goodput/ideal %.3f; want 0, ≤ 0.03, ≥ %v",
				c.name, r.punished, r.share429(), r.goodputRatio(s), c.ratio)
		}
	}
}
