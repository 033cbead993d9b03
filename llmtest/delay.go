package llmtest

import "time"

// Delay is a one-way network delay, drawn afresh for each way of each
// request (the request to the server, the response back), every status
// included: a 429 costs the client a round trip, as on a real network.
//
// The zero value means no delay. Otherwise each way takes a delay drawn
// uniformly from [Min, Max] (Max below Min means Min), or, when Draw is
// set, Draw(u) for a uniform u in [0, 1). The draws come from a generator
// of their own seeded with [Config.Seed], in arrival order, so they do not
// change the waits and faults a seed gives.
//
// The server applies both ways before it handles the request, so what a
// client sees is exactly what a network would give it (the first byte and
// every later one arrive a round trip late); the server's own clock, by
// which it counts requests in flight, runs behind the real server's by the
// response's delay.
type Delay struct {
	Min, Max time.Duration
	// Draw, when set, maps a uniform u in [0, 1) to a delay, such as the
	// inverse of a heavy-tailed distribution. It must be safe for
	// concurrent use; negative results mean zero.
	Draw func(u float64) time.Duration
}

func (d Delay) enabled() bool { return d.Draw != nil || d.Max > 0 || d.Min > 0 }

// at returns the delay for the uniform u.
func (d Delay) at(u float64) time.Duration {
	if d.Draw != nil {
		return max(d.Draw(u), 0)
	}
	lo, hi := max(d.Min, 0), d.Max
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(u*float64(hi-lo+1))
}

// roundTrip draws the request's and the response's delay.
func (s *Handler) roundTrip() time.Duration {
	if !s.cfg.OneWayDelay.enabled() {
		return 0
	}
	s.mu.Lock()
	u1, u2 := s.netRng.Float64(), s.netRng.Float64()
	s.mu.Unlock()
	return s.cfg.OneWayDelay.at(u1) + s.cfg.OneWayDelay.at(u2)
}
