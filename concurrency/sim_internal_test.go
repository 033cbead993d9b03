package concurrency

import (
	"math"
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

// coldServer is a steady limit of 500 at production scale: answers of
// 450ms ±50ms, 429s back in a 30ms round trip, 15ms from the server's last
// byte to the client, and 700 callers waiting from the start.
func coldServer(stream bool) *simServer {
	s := &simServer{
		phases:   []simPhase{{500, time.Minute}},
		service:  425 * time.Millisecond,
		jitter:   50 * time.Millisecond,
		fast:     30 * time.Millisecond,
		lag:      15 * time.Millisecond,
		punish:   true,
		requests: 1 << 30,
		maxTime:  20 * time.Second,
		backlog:  700,
	}
	if stream {
		// Headers come back a round trip and a first token after
		// admission; the body lasts the whole answer.
		s.headers = 45 * time.Millisecond
	}
	return s
}

// TestSimColdStart starts a cold default gate against a steady limit of
// 500: it must reach 90% of it within log2(500/4)+3 round trips, with no
// burst punishment, and then stay near it.
func TestSimColdStart(t *testing.T) {
	for _, stream := range []bool{false, true} {
		s := coldServer(stream)
		var reached time.Duration = -1
		peak := 0
		s.onRelease = func(now time.Duration, limit int) {
			if reached < 0 && limit >= 450 {
				reached = now
			}
			peak = max(peak, limit)
		}
		r := s.run(newLocal(Config{}))
		roundTrip := s.service + s.jitter/2 + s.lag
		budget := time.Duration((math.Log2(500.0/DefaultInitialLimit) + 3) * float64(roundTrip))
		t.Logf("stream %v: 90%% of the limit at %v (budget %v), peak limit %d, %d ok, %d 429s (%.2f%%), goodput/ideal %.3f, punished %d",
			stream, reached, budget, peak, r.ok, r.limited, 100*r.share429(), r.goodputRatio(s), r.punished)
		if reached < 0 || reached > budget {
			t.Errorf("stream %v: reached 90%% of the limit at %v, want within %v", stream, reached, budget)
		}
		if r.punished > 0 || r.share429() > 0.03 {
			t.Errorf("stream %v: punished %d times, 429 share %.3f; want 0 and ≤ 0.03", stream, r.punished, r.share429())
		}
	}
}
