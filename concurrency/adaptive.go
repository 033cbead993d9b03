package concurrency

import (
	"math"
	"time"

	"github.com/pacerhttp/pacer/internal/policy"
)

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
	// last success of the epoch, each within streakWindow of the one
	// before (at streakAt): dropStreak of them halve the limit.
	streak   int
	streakAt time.Time

	// probe is the top level of the pending probe, a block of requests
	// admitted above the limit (limit+1 up to probe), probeLeft how many
	// more of them may still go, and probeAt when the first went; probe is
	// zero when none is pending.
	probe, probeLeft int
	probeAt          time.Time
	// next is the earliest time of the next probe.
	next time.Time
	// raisedFrom and raised are the limits before and after the last
	// settled probe, until an answer from its levels shows whether the
	// server served them at once; raised is zero when none is in doubt.
	raisedFrom, raised int

	// slow is set during the fast cold start, until the first 429 or busy
	// sign: probes are blocks that grow the limit by up to growth per
	// round trip (see step). growth is at most 1 when it is off.
	slow   bool
	growth float64
	// answered is set by the first success or 429: no probe goes before
	// it, when nothing says how long a 429 would take to come back.
	answered bool
	// climb counts the probes settled in a row since the last 429 or busy
	// sign: after the cold start, the next probe is a block of 2^climb
	// levels (see step), so that a limit that rose far is found in a few
	// gaps, while one sitting at the server's limit probes one level.
	climb int

	// held is a moving average of how long a successful request held its
	// permit, from admission to the end of its body: for a stream, the
	// whole stream, not only its time to headers.
	held time.Duration

	// rejectRTT is a decaying maximum of how long a 429 takes to come
	// back, fastest the shortest latency of any response, and rtt a moving
	// average of the latency of the others. They set the probe gap and the
	// hold.
	rejectRTT, fastest, rtt time.Duration
}

// The policy's constants; the Redis scripts of redislimit take theirs from
// the same place.
const (
	holdRTTs   = policy.HoldRTTs
	dropStreak = policy.DropStreak
	gapRejects = policy.GapRejects
	guessShare = policy.GuessShare
	climbShare = policy.ClimbShare
	smoothing  = policy.Smoothing
	defaultGap = policy.DefaultGap
	minGap     = policy.MinGap
	defaultRTT = policy.DefaultRTT
	maxRTT     = policy.MaxRTT
	slowBurst  = policy.SlowBurst
	maxClimb   = policy.MaxClimb
)

func newAdaptive(initial, min, max int) adaptive {
	return adaptive{min: min, max: max, limit: clamp(initial, min, max)}
}

// slowStart turns the fast cold start on, with at most the given growth
// per round trip; a growth of 1 or less leaves it off.
func (a *adaptive) slowStart(growth float64) {
	a.slow, a.growth = growth > 1, growth
}

// step is the size of the next probe. During the fast cold start it is
// the growth a probe gap allows at growth per round trip; after it, 2^climb
// levels, within an eighth of the limit. It is at least one, at most
// slowBurst.
func (a *adaptive) step() int {
	if !a.slow {
		return clamp(1<<a.climb, 1, clamp(a.limit/climbShare, 1, slowBurst))
	}
	f := math.Pow(a.growth, float64(a.gap())/float64(a.roundTrip())) - 1
	return clamp(int(float64(a.limit)*f), 1, slowBurst)
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
// fitting: three times the time a 429 takes to come back. Before any 429
// was seen, it is a guess at that: an eighth of a permit's hold, but no
// more than three times the fastest response took to its headers, and no
// less than an eighth of that. (A JSON answer's headers come with its
// end, long after a 429 would; a stream's come a round trip after it was
// sent, as a 429's do.)
func (a *adaptive) gap() time.Duration {
	var g time.Duration
	switch {
	case a.rejectRTT > 0:
		g = gapRejects * a.rejectRTT
	case a.fastest > 0:
		g = max(a.fastest/guessShare, min(gapRejects*a.fastest, a.held/guessShare))
	default:
		g = defaultGap
	}
	return max(g, minGap)
}

// roundTrip is the round trip the hold and the cold start's rounds are
// counted in: how long a successful request holds its permit (admission
// to the end of its body), or its time to headers when that is all that
// was measured, within maxRTT.
func (a *adaptive) roundTrip() time.Duration {
	rt := max(a.rtt, a.held)
	if rt <= 0 {
		return defaultRTT
	}
	return min(rt, maxRTT)
}

// heldFor learns how long a successful request held its permit.
func (a *adaptive) heldFor(d time.Duration) {
	switch {
	case d <= 0:
	case a.held == 0:
		a.held = d
	default:
		a.held += (d - a.held) / smoothing
	}
}

// probeWait settles a pending probe that went the gap without a 429 (its
// levels fit: the limit rises to its top) and reports how long until a
// request may be admitted above the limit: zero means now (a new probe, or
// the rest of a pending one), negative never (the limit is at its maximum,
// or nothing was answered yet).
func (a *adaptive) probeWait(now time.Time) time.Duration {
	if a.probe > 0 {
		if d := a.probeAt.Add(a.gap()).Sub(now); d > 0 {
			if a.probeLeft > 0 {
				return 0
			}
			return d
		}
		a.raisedFrom, a.limit, a.raised, a.probe = a.limit, a.probe, a.probe, 0
		a.climb = min(a.climb+1, maxClimb)
	}
	if a.limit >= a.max || !a.answered {
		return -1
	}
	return max(a.next.Sub(now), 0)
}

// admitted records an admission at level x at now: part of a probe when x
// is above the limit, the first of a new one when none is pending.
func (a *adaptive) admitted(x int, now time.Time) {
	switch {
	case x <= a.limit:
	case a.probe == 0:
		n := min(a.step(), a.max-a.limit)
		a.probe, a.probeLeft, a.probeAt = a.limit+n, n-1, now
	case a.probeLeft > 0:
		a.probeLeft--
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
		a.rejectRTT = max(latency, a.rejectRTT-a.rejectRTT/smoothing)
	case a.rtt == 0:
		a.rtt = latency
	default:
		a.rtt += (latency - a.rtt) / smoothing
	}
}

// success learns from a successful request admitted at level x in epoch
// ep, served at once: the levels in force fit, so a run of decreases was
// not a drop, and a raise to x is no longer in doubt.
func (a *adaptive) success(x int, ep uint64) {
	a.answered = true
	if ep == a.epoch {
		a.streak = 0
	}
	if x > a.raisedFrom {
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
	a.answered, a.slow = true, false
	current := ep == a.epoch
	if current {
		a.epoch++
		a.probe = 0
		a.climb = 0
		a.next = now.Add(holdRTTs * a.roundTrip())
		if x > old {
			return false
		}
	}
	a.lower(min(x-1, inFlight))
	if current {
		// Three decreases in a row, each as soon as a 429 could follow
		// the one before, with no success between, are a drop: halve.
		// Decreases further apart are the limit found again, one level
		// at a time, as answers that take many 429 round trips end.
		if a.streak > 0 && now.Sub(a.streakAt) > a.streakWindow() {
			a.streak = 0
		}
		a.streakAt = now
		if a.streak++; a.streak >= dropStreak {
			a.lower(x / 2)
			a.streak = 0
		}
	}
	return a.limit != old
}

// streakWindow is how soon a decrease must follow the one before to
// count toward a drop: a probe gap (a few 429 round trips) and the mean
// time between two requests' ends at the current limit, when the next
// admission goes.
func (a *adaptive) streakWindow() time.Duration {
	return a.gap() + a.roundTrip()/time.Duration(max(a.limit, 1))
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
	a.slow = false
	a.probe = 0
	a.climb = 0
	to := a.limit
	if a.raised > 0 && x > a.raisedFrom {
		to = a.raisedFrom
		a.raised = 0
	}
	a.lower(min(to, base))
	a.next = now.Add(a.roundTrip())
}
