package concurrency

import "time"

// adaptive is the limit-learning state of one key: a state machine fed by
// the in-process limiter under the key's lock, with time passed in. The
// package documentation explains the algorithm; the names here follow it.
//
// Every admitted request carries two numbers from its admission: its level
// x (requests in flight for the key, itself included) and the epoch (how
// many decreases had happened). A 429 from an earlier epoch belongs to a
// burst already answered and is ignored, so one burst is one signal.
type adaptive struct {
	min, max int

	// limit is the current limit.
	limit int
	// safe is the highest level admitted without a 429 coming back within
	// the probe gap: levels up to it are admitted freely, one above it
	// only as a paced probe.
	safe int
	// ceiling is the highest level believed to fit: the level below the
	// last counted 429. Zero means none is known and the limit climbs.
	ceiling int
	// epoch counts decreases.
	epoch uint64
	// streak counts the 429s counted since the last success of the
	// epoch: three in a row, each after a decrease, is a drop.
	streak int
	// struck reports a dip at the ceiling since the last full hold there:
	// a second one lowers the ceiling.
	struck bool

	// probeLevel and probeAt are the level and time of the last admission
	// above safe; zero when none is pending.
	probeLevel int
	probeAt    time.Time

	// credit counts saturated successes while the limit sits at the
	// ceiling; at hold round trips' worth (hold·limit) the next probe
	// starts. hold doubles (up to maxHold) while probes keep failing at
	// the same level, and drops back to minHold when one succeeds.
	credit                 int
	hold, minHold, maxHold int
	// probeFrom is the ceiling a probe started from, 0 when not probing.
	probeFrom int

	// rejectRTT is a decaying maximum of how long a 429 takes to come back;
	// fastest is the shortest latency of any response. They set the gap
	// between probes.
	rejectRTT, fastest time.Duration
}

const (
	defaultMinHold = 1
	defaultMaxHold = 4
	// dropStreak is how many decreases in a row, with no success between,
	// mean a drop rather than an overshoot.
	dropStreak = 3
	// defaultGap is the probe gap before any response has been timed.
	defaultGap = time.Millisecond
	// minGap keeps the probe gap above the noise of the scheduler.
	minGap = 200 * time.Microsecond
)

func newAdaptive(initial, min, max int) adaptive {
	l := clamp(initial, min, max)
	return adaptive{
		min:     min,
		max:     max,
		limit:   l,
		safe:    l,
		hold:    defaultMinHold,
		minHold: defaultMinHold,
		maxHold: defaultMaxHold,
	}
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// current is the limit in force: levels up to safe are admitted freely and
// one above it as a probe, so a limit that slow start raised further is
// not yet in force.
func (a *adaptive) current() int { return min(a.limit, a.safe+1) }

// gap is how long a probe must go without a 429 before the next level is
// tried: three times the time a 429 takes to come back, so that one probe
// is in doubt at a time and an overshoot costs one 429.
func (a *adaptive) gap() time.Duration {
	var g time.Duration
	switch {
	case a.rejectRTT > 0:
		g = 3 * a.rejectRTT
	case a.fastest > 0:
		g = a.fastest / 8
	default:
		g = defaultGap
	}
	return max(g, minGap)
}

// probeWait reports how long to wait before a request may be admitted
// above the safe level; zero means now. A pending probe that went the gap
// without a 429 makes its level safe.
func (a *adaptive) probeWait(now time.Time) time.Duration {
	if a.probeLevel > 0 {
		if d := a.probeAt.Add(a.gap()).Sub(now); d > 0 {
			return d
		}
		a.safe = max(a.safe, a.probeLevel)
		a.probeLevel = 0
	}
	return 0
}

// admitted records an admission at level x at now, a probe when x is above
// safe.
func (a *adaptive) admitted(x int, now time.Time) {
	if x > a.safe {
		a.probeLevel, a.probeAt = x, now
	}
}

// timed learns response latencies, which set the probe gap.
func (a *adaptive) timed(limited bool, latency time.Duration) {
	if latency <= 0 {
		return
	}
	if a.fastest == 0 || latency < a.fastest {
		a.fastest = latency
	}
	if limited {
		// A decaying maximum: one slow 429 (a new connection, a busy
		// machine) widens the gap at once; it narrows slowly.
		a.rejectRTT = max(latency, a.rejectRTT-a.rejectRTT/8)
	}
}

// success learns from a successful request admitted at level x in epoch
// ep. saturated reports whether the key was saturated when it ended (in
// flight at the limit, or requests queued). It reports whether the limit
// changed.
func (a *adaptive) success(x int, ep uint64, saturated bool) bool {
	if ep != a.epoch {
		// Sent before the last decrease: it proves nothing about the
		// limit now in force.
		return false
	}
	a.streak = 0
	a.safe = max(a.safe, x)
	if !saturated {
		return false
	}
	if a.ceiling == 0 || a.limit < a.ceiling {
		return a.raise()
	}
	// At the ceiling: sit for hold round trips, then probe one above it.
	a.credit++
	if a.credit < a.hold*a.limit {
		return false
	}
	a.credit = 0
	a.struck = false
	a.probeFrom = a.ceiling
	a.ceiling = 0
	return a.raise()
}

// raise adds one to the limit (slow start: one per saturated success
// doubles it every round trip), up to the ceiling, max, and twice the safe
// level. Levels above the safe one are admitted one probe gap apart.
func (a *adaptive) raise() bool {
	top := min(a.max, 2*a.safe+1)
	if a.ceiling > 0 {
		top = min(top, a.ceiling)
	}
	if a.limit >= top {
		return false
	}
	a.limit++
	return true
}

// rateLimited learns from a 429 for a request admitted at level x in epoch
// ep, and reports whether the limit changed.
func (a *adaptive) rateLimited(x int, ep uint64) bool {
	if ep != a.epoch {
		// Part of a burst already answered; but its level is not safe.
		if x <= a.safe {
			a.safe = max(x-1, a.min)
		}
		return false
	}
	old := a.limit
	a.epoch++
	a.credit = 0
	a.streak++
	switch {
	case a.streak >= dropStreak:
		// 429s keep coming after each decrease, before any success:
		// the server's limit dropped. Halve, and climb to find the new
		// level.
		a.limit = clamp(x/2, a.min, a.max)
		a.hold = a.minHold
		a.streak = 0
		a.ceiling = 0
		a.probeFrom = 0
		a.struck = false
	case x <= a.ceiling && !(x == a.ceiling && a.struck):
		// A dip: a level believed to fit failed, most likely because
		// the server still counted a request that had just ended for us
		// (or it is the start of a drop, which the streak will show).
		// Step below it, and climb back on the next success.
		a.limit = clamp(x-1, a.min, a.max)
		a.struck = a.struck || x == a.ceiling
	default:
		// An overshoot: the limit is just below x.
		a.limit = clamp(x-1, a.min, a.max)
		if a.probeFrom > 0 && x-1 <= a.probeFrom {
			a.hold = min(2*a.hold, a.maxHold)
		} else {
			a.hold = a.minHold
		}
		a.probeFrom = 0
		a.ceiling = max(x-1, a.min)
		a.struck = false
	}
	a.safe = a.limit
	a.probeLevel = 0
	return a.limit != old
}

// busy learns from a sign that the platform is full (the request waited to
// be scheduled, or a 503): no increase now, and no probing above the
// current limit until a round trip without such a sign.
func (a *adaptive) busy() {
	a.credit = 0
	if a.ceiling == 0 || a.ceiling > a.limit {
		a.ceiling = a.limit
	}
	a.probeFrom = 0
}
