package llmtest

import "time"

// limiter is the account's admission state: the phase schedule, punishment,
// requests in flight and the running integral of the effective limit.
// Times are offsets from the server's start. It is not safe for concurrent
// use; the server guards it with its mutex.
type limiter struct {
	phases   []Phase // phases with a positive Duration
	cycle    time.Duration
	constant int     // the limit when cycle is zero and there is no walk
	walk     *walker // replaces the phases when set

	punishOn      bool
	pun           Punishment
	hits          []time.Duration // ring of the last Threshold+1 429 times
	hitN, hitPos  int
	punishedUntil time.Duration
	punishments   int // punishments started (not extended)

	inflight, peak int

	integral int64 // request·nanoseconds from 0 to last
	last     time.Duration
	cycleInt [2]int64 // integral over one cycle, unpunished and punished
}

// newModelLimiter returns the limiter of a [ModelLimit]: its walk when it
// has one, else its phases.
func newModelLimiter(m ModelLimit, seed uint64, p Punishment) *limiter {
	if m.Walk.Start <= 0 {
		return newLimiter(m.Phases, p)
	}
	l := newLimiter(nil, p)
	l.walk = newWalker(m.Walk, seed)
	return l
}

func newLimiter(phases []Phase, p Punishment) *limiter {
	l := &limiter{pun: p, punishOn: p.Duration > 0}
	for _, ph := range phases {
		ph.Limit = max(ph.Limit, 0)
		if ph.Duration > 0 {
			l.phases = append(l.phases, ph)
			l.cycle += ph.Duration
		}
	}
	if l.cycle == 0 && len(phases) > 0 {
		l.constant = max(phases[0].Limit, 0)
	}
	if l.punishOn {
		l.hits = make([]time.Duration, p.Threshold+1)
	}
	for i, punished := range [2]bool{false, true} {
		for _, ph := range l.phases {
			l.cycleInt[i] += int64(l.effective(ph.Limit, punished)) * int64(ph.Duration)
		}
	}
	return l
}

// effective applies punishment to a base limit; 0 (unlimited) stays 0.
func (l *limiter) effective(base int, punished bool) int {
	if base <= 0 || !punished {
		return base
	}
	return max(int(float64(base)*l.pun.Factor), 1)
}

// base returns the scheduled limit at t.
func (l *limiter) base(t time.Duration) int {
	if l.walk != nil {
		return l.walk.at(t, l.effective)
	}
	if l.cycle == 0 {
		return l.constant
	}
	t %= l.cycle
	for _, ph := range l.phases {
		if t < ph.Duration {
			return ph.Limit
		}
		t -= ph.Duration
	}
	return l.phases[len(l.phases)-1].Limit
}

// limit returns the effective limit at t; 0 means unlimited.
func (l *limiter) limit(t time.Duration) int {
	return l.effective(l.base(t), t < l.punishedUntil)
}

// cumulative returns the integral from 0 to t of the limit, as if the
// whole span were punished (or not), in request·nanoseconds.
func (l *limiter) cumulative(t time.Duration, punished bool) int64 {
	if l.walk != nil {
		return l.walk.cumulative(t, punished, l.effective)
	}
	if l.cycle == 0 {
		return int64(l.effective(l.constant, punished)) * int64(t)
	}
	idx := 0
	if punished {
		idx = 1
	}
	sum := int64(t/l.cycle) * l.cycleInt[idx]
	r := t % l.cycle
	for _, ph := range l.phases {
		if r <= 0 {
			break
		}
		d := min(r, ph.Duration)
		sum += int64(l.effective(ph.Limit, punished)) * int64(d)
		r -= d
	}
	return sum
}

// advance integrates the effective limit up to now. Punishment changes
// only at events, which call advance first, and at punishedUntil, which
// advance splits on, so the integral is exact.
func (l *limiter) advance(now time.Duration) {
	if now <= l.last {
		return
	}
	a := l.last
	if l.punishedUntil > a {
		b := min(now, l.punishedUntil)
		l.integral += l.cumulative(b, true) - l.cumulative(a, true)
		a = b
	}
	if now > a {
		l.integral += l.cumulative(now, false) - l.cumulative(a, false)
	}
	l.last = now
}

// admit admits a request at now if the effective limit allows it.
func (l *limiter) admit(now time.Duration) bool {
	l.advance(now)
	if lim := l.limit(now); lim > 0 && l.inflight >= lim {
		return false
	}
	l.enter()
	return true
}

// enter counts a request in flight without checking the limit.
func (l *limiter) enter() {
	l.inflight++
	l.peak = max(l.peak, l.inflight)
}

// leave counts a request out of flight.
func (l *limiter) leave() { l.inflight-- }

// rejected records a 429 sent at now and starts or extends punishment when
// more than Threshold of them fell within Window.
func (l *limiter) rejected(now time.Duration) {
	if !l.punishOn {
		return
	}
	l.hits[l.hitPos] = now
	l.hitPos = (l.hitPos + 1) % len(l.hits)
	l.hitN = min(l.hitN+1, len(l.hits))
	if l.hitN < len(l.hits) {
		return
	}
	oldest := l.hits[l.hitPos]
	if now-oldest > l.pun.Window {
		return
	}
	l.advance(now)
	if now >= l.punishedUntil {
		l.punishments++
	}
	l.punishedUntil = max(l.punishedUntil, now+l.pun.Duration)
}
