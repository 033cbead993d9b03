package concurrency

import "time"

// adaptive is the limit-learning state of one key, fed by the in-process
// limiter under the key's lock, with time passed in. The package
// documentation explains the algorithm; the names here follow it.
//
// Every admitted request carries two numbers from its admission: its level
// x (requests in flight for the key, itself included) and the epoch (how
// many decreases had happened). A 429 from an earlier epoch belongs to a
// burst already answered: it only bounds the limit by what it shows, so
// one burst is one signal.
type adaptive struct {
	min, max int

	// limit is the number of requests admitted freely.
	limit int
	// epoch counts decreases.
	epoch uint64
	// streak counts the decreases at levels within the limit since the
	// last success of the epoch: dropStreak of them halve the limit.
	streak int

	// probe is the level of the request admitted above the limit (limit+1)
	// and probeAt when; probe is zero when none is pending.
	probe   int
	probeAt time.Time
	// next is the earliest time of the next probe.
	next time.Time
	// raised is the level the last settled probe raised the limit to,
	// until an answer from that level shows whether the server served it
	// at once; zero when none is in doubt.
	raised int

	// rejectRTT is a decaying maximum of how long a 429 takes to come
	// back, fastest the shortest latency of any response, and rtt a moving
	// average of the latency of the others. They set the probe gap and the
	// hold.
	rejectRTT, fastest, rtt time.Duration
}

const (
	// holdRTTs is how many round trips a 429 holds off the next probe.
	holdRTTs = 5
	// dropStreak is how many decreases in a row, with no success between,
	// mean a drop rather than a step down by one.
	dropStreak = 3
	// defaultGap is the probe gap before any response has been timed.
	defaultGap = time.Millisecond
	// minGap keeps the probe gap above the noise of the scheduler.
	minGap = 200 * time.Microsecond
	// defaultRTT stands for the round trip before any success was timed.
	defaultRTT = 50 * time.Millisecond
)

func newAdaptive(initial, min, max int) adaptive {
	return adaptive{min: min, max: max, limit: clamp(initial, min, max)}
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

// current is the limit in force: the limit, or the level of a pending
// probe.
func (a *adaptive) current() int { return max(a.limit, a.probe) }

// gap is how long a probe must go without a 429 before its level counts as
// fitting: three times the time a 429 takes to come back (an eighth of the
// fastest response before any 429 was seen).
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

// roundTrip is the round trip the hold is counted in.
func (a *adaptive) roundTrip() time.Duration {
	if a.rtt > 0 {
		return a.rtt
	}
	return defaultRTT
}

// probeWait settles a pending probe that went the gap without a 429 (its
// level fits: the limit rises to it) and reports how long until a request
// may be admitted above the limit: zero means now, negative never (the
// limit is at its maximum).
func (a *adaptive) probeWait(now time.Time) time.Duration {
	if a.probe > 0 {
		if d := a.probeAt.Add(a.gap()).Sub(now); d > 0 {
			return d
		}
		a.limit, a.raised, a.probe = a.probe, a.probe, 0
	}
	if a.limit >= a.max {
		return -1
	}
	return max(a.next.Sub(now), 0)
}

// admitted records an admission at level x at now: a probe when x is above
// the limit.
func (a *adaptive) admitted(x int, now time.Time) {
	if x > a.limit {
		a.probe, a.probeAt = x, now
	}
}

// timed learns response latencies, which set the probe gap and the hold.
func (a *adaptive) timed(limited bool, latency time.Duration) {
	if latency <= 0 {
		return
	}
	if a.fastest == 0 || latency < a.fastest {
		a.fastest = latency
	}
	switch {
	case limited:
		// A decaying maximum: one slow 429 (a new connection, a busy
		// machine) widens the gap at once; it narrows slowly.
		a.rejectRTT = max(latency, a.rejectRTT-a.rejectRTT/8)
	case a.rtt == 0:
		a.rtt = latency
	default:
		a.rtt += (latency - a.rtt) / 8
	}
}

// success learns from a successful request admitted at level x in epoch
// ep, served at once: the levels in force fit, so a run of decreases was
// not a drop, and a raise to x is no longer in doubt.
func (a *adaptive) success(x int, ep uint64) {
	if ep == a.epoch {
		a.streak = 0
	}
	if x >= a.raised {
		a.raised = 0
	}
}

// rateLimited learns from a 429 for a request admitted at level x in epoch
// ep, released at now with inFlight other requests still in flight, and
// reports whether the limit changed.
//
// A failed probe (a 429 above the limit, in the current epoch) says the
// limit was right. Any other 429 is a fact about the server, whatever its
// epoch: it had its limit in flight when it answered, and it counts no
// request that the gate does not count, so its limit is at most x−1 and
// at most the requests still in flight. The limit comes down to that.
// Only the first such 429 of a burst (of the current epoch) holds off
// probing and counts toward a drop.
func (a *adaptive) rateLimited(x int, ep uint64, inFlight int, now time.Time) bool {
	old := a.limit
	current := ep == a.epoch
	if current {
		a.epoch++
		a.probe = 0
		a.next = now.Add(holdRTTs * a.roundTrip())
		if x > old {
			return false
		}
	}
	a.lower(min(x-1, inFlight))
	if current {
		// Three decreases in a row, with no success between, are a
		// drop: halve.
		if a.streak++; a.streak >= dropStreak {
			a.lower(x / 2)
			a.streak = 0
		}
	}
	return a.limit != old
}

// lower brings the limit down to at most l (and at least min), dropping a
// pending probe above it.
func (a *adaptive) lower(l int) {
	if l < a.limit {
		a.limit = max(l, a.min)
		a.probe = 0
		a.raised = 0
	}
}

// busy learns from a sign that the platform is full (a request admitted at
// level x, when the limit was base, waited to be scheduled, or got a 503):
// the pending probe does not count; the raises made since that request was
// admitted are undone, back to base, for they were made blind to a
// platform that was already full (probes settle on the silence of 429s,
// which come back far sooner than the first byte of an answer; the sign is
// learned when the response starts, so these are the raises made while it
// waited); a raise to x or below it is undone too; and the next probe
// waits a round trip.
func (a *adaptive) busy(x, base int, now time.Time) {
	a.probe = 0
	to := a.limit
	if a.raised > 0 && x >= a.raised {
		to = a.raised - 1
		a.raised = 0
	}
	a.lower(min(to, base))
	a.next = now.Add(a.roundTrip())
}
