package concurrency

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

var t0 = time.Unix(1000, 0)

const ms = time.Millisecond

// timedAdaptive is an adaptive state that has seen 40ms successes and 1ms
// 429s: a 3ms probe gap and a 40ms round trip.
func timedAdaptive(initial int) adaptive {
	a := newAdaptive(initial, 1, 100)
	a.timed(false, 40*ms)
	a.timed(true, ms)
	a.answered = true
	return a
}

func TestAdaptiveNoProbeBeforeAnswer(t *testing.T) {
	a := newAdaptive(4, 1, 100)
	a.timed(false, 40*ms)
	if d := a.probeWait(t0); d >= 0 {
		t.Errorf("probe wait %v before any answer, want none (negative)", d)
	}
	a.success(4, 0)
	if d := a.probeWait(t0); d != 0 {
		t.Errorf("probe wait %v after a success, want 0", d)
	}
}

// slowAdaptive is a cold adaptive state in its fast start: answers held
// for 400ms, 429s back in 10ms before any was seen is unknown, so the gap
// is an eighth of the hold: 50ms.
func slowAdaptive(initial int, growth float64) adaptive {
	a := newAdaptive(initial, 1, 10000)
	a.slowStart(growth)
	a.timed(false, 400*ms)
	a.heldFor(400 * ms)
	a.success(initial, 0)
	return a
}

func TestAdaptiveSlowStartProbesInBlocks(t *testing.T) {
	a := slowAdaptive(40, 2)
	if a.gap() != 50*ms || a.roundTrip() != 400*ms {
		t.Fatalf("gap %v round trip %v, want 50ms 400ms", a.gap(), a.roundTrip())
	}
	// Doubling per 400ms is 2^(1/8) per 50ms gap: 40 · 0.09 = 3 levels.
	want := int(40 * (math.Pow(2, 1.0/8) - 1))
	a.admitted(41, t0)
	if a.probe != 40+want || a.probeLeft != want-1 {
		t.Fatalf("probe %d left %d, want %d %d", a.probe, a.probeLeft, 40+want, want-1)
	}
	// The rest of the block may go at once...
	for x := 42; x <= 40+want; x++ {
		if d := a.probeWait(t0); d != 0 {
			t.Fatalf("probe wait %v for level %d of the block, want 0", d, x)
		}
		a.admitted(x, t0)
	}
	// ...and no more until the block settles.
	if d := a.probeWait(t0.Add(10 * ms)); d != 40*ms {
		t.Errorf("probe wait %v with the block sent, want 40ms", d)
	}
	if d := a.probeWait(t0.Add(50 * ms)); d != 0 || a.limit != 40+want {
		t.Errorf("after the gap: wait %v limit %d, want 0 %d", d, a.limit, 40+want)
	}
	// At a high limit, a block is at most slowBurst.
	b := slowAdaptive(1000, 2)
	b.admitted(1001, t0)
	if b.probe != 1000+slowBurst {
		t.Errorf("probe %d at limit 1000, want %d", b.probe, 1000+slowBurst)
	}
}

func TestAdaptiveSlowStartGrowthCap(t *testing.T) {
	for _, c := range []struct {
		growth float64
		want   int // block size at limit 150
	}{
		{2, int(150 * (math.Pow(2, 1.0/8) - 1))},
		{1.25, int(150 * (math.Pow(1.25, 1.0/8) - 1))},
		{1, 1},
		{0.5, 1},
	} {
		a := slowAdaptive(150, c.growth)
		if got := a.step(); got != c.want {
			t.Errorf("growth %v: block %d at limit 150, want %d", c.growth, got, c.want)
		}
	}
}

func TestAdaptiveSlowStartEnds(t *testing.T) {
	for name, signal := range map[string]func(a *adaptive){
		"429":  func(a *adaptive) { a.rateLimited(200, a.epoch, 199, t0) },
		"busy": func(a *adaptive) { a.busy(200, 200, t0) },
	} {
		a := slowAdaptive(200, 2)
		signal(&a)
		if a.slow || a.step() != 1 {
			t.Errorf("%s: fast start %v, block %d after the signal, want off and 1", name, a.slow, a.step())
		}
	}
}

// TestAdaptiveStreakNeedsQuickDecreases checks that decreases far apart
// (the limit found again as long answers end) do not halve the limit, and
// that decreases as quick as 429s can follow each other do.
func TestAdaptiveStreakNeedsQuickDecreases(t *testing.T) {
	a := timedAdaptive(50) // gap 3ms, round trip 40ms: a window of 3.8ms
	at := t0
	for range 5 {
		at = at.Add(10 * ms)
		a.rateLimited(a.limit, a.epoch, a.limit, at)
	}
	if a.limit != 45 {
		t.Errorf("limit %d after 5 decreases 10ms apart from 50, want 45", a.limit)
	}
	b := timedAdaptive(50)
	at = t0
	for range 3 {
		at = at.Add(2 * ms)
		b.rateLimited(b.limit, b.epoch, b.limit, at)
	}
	if b.limit != 24 {
		t.Errorf("limit %d after 3 decreases 2ms apart from 50, want 24 (halved)", b.limit)
	}
}

func TestAdaptiveProbeSettlesAfterGap(t *testing.T) {
	a := timedAdaptive(4)
	if d := a.probeWait(t0); d != 0 {
		t.Fatalf("probe wait %v at the start, want 0 (probe at once)", d)
	}
	a.admitted(5, t0)
	if a.probe != 5 || a.current() != 5 || a.limit != 4 {
		t.Fatalf("probe %d current %d limit %d, want 5 5 4", a.probe, a.current(), a.limit)
	}
	// One probe at a time: the next waits for the gap.
	if d := a.probeWait(t0.Add(ms)); d != 2*ms {
		t.Errorf("probe wait %v 1ms after a probe, want 2ms", d)
	}
	// No 429 within the gap: the level fits, and the next probe may go.
	if d := a.probeWait(t0.Add(3 * ms)); d != 0 || a.limit != 5 || a.probe != 0 {
		t.Errorf("after the gap: wait %v limit %d probe %d, want 0 5 0", d, a.limit, a.probe)
	}
}

func TestAdaptiveFailedProbeHolds(t *testing.T) {
	a := timedAdaptive(16)
	a.admitted(17, t0)
	at := t0.Add(ms)
	if a.rateLimited(17, 0, 16, at) || a.limit != 16 || a.probe != 0 {
		t.Fatalf("failed probe: limit %d probe %d, want 16 and none", a.limit, a.probe)
	}
	hold := holdRTTs * 40 * ms
	if d := a.probeWait(at); d != hold {
		t.Errorf("probe wait %v after a failed probe, want %v", d, hold)
	}
	if d := a.probeWait(at.Add(hold)); d != 0 {
		t.Errorf("probe wait %v after the hold, want 0", d)
	}
	// A failed probe is not a decrease: no streak toward a drop.
	if a.streak != 0 {
		t.Errorf("streak %d after a failed probe, want 0", a.streak)
	}
}

func TestAdaptiveOneSignalPerBurst(t *testing.T) {
	a := timedAdaptive(16)
	if !a.rateLimited(16, 0, 15, t0) || a.limit != 15 || a.epoch != 1 || a.streak != 1 {
		t.Fatalf("first 429 at level 16: limit %d epoch %d streak %d, want 15 1 1", a.limit, a.epoch, a.streak)
	}
	// The rest of the burst, sent before the decrease, is no new signal:
	// no further decrease while as many requests are in flight...
	for range 5 {
		if a.rateLimited(16, 0, 15, t0) || a.limit != 15 || a.epoch != 1 || a.streak != 1 {
			t.Fatalf("429 from the same burst: limit %d epoch %d streak %d, want 15 1 1", a.limit, a.epoch, a.streak)
		}
	}
	// ...but what it shows still holds: the server had its limit in
	// flight when the gate had 12 others.
	if !a.rateLimited(16, 0, 12, t0) || a.limit != 12 || a.epoch != 1 || a.streak != 1 {
		t.Errorf("429 from the burst with 12 in flight: limit %d epoch %d streak %d, want 12 1 1", a.limit, a.epoch, a.streak)
	}
	// A 429 of the burst at a low level bounds the limit too.
	if !a.rateLimited(10, 0, 12, t0) || a.limit != 9 {
		t.Errorf("429 from the burst at level 10: limit %d, want 9", a.limit)
	}
}

func TestAdaptiveDropHalves(t *testing.T) {
	a := timedAdaptive(16)
	a.rateLimited(16, a.epoch, 20, t0) // 15
	a.rateLimited(15, a.epoch, 20, t0) // 14
	if a.limit != 14 {
		t.Fatalf("limit %d after two decreases, want 14", a.limit)
	}
	// The third decrease in a row, with no success between: a drop.
	a.rateLimited(14, a.epoch, 20, t0)
	if a.limit != 7 || a.streak != 0 {
		t.Fatalf("limit %d streak %d after three decreases, want 7 0", a.limit, a.streak)
	}

	// A success of the epoch between decreases means no drop.
	b := timedAdaptive(16)
	b.rateLimited(16, b.epoch, 20, t0)
	b.rateLimited(15, b.epoch, 20, t0)
	b.success(16, b.epoch-1) // sent before the last decrease: proves nothing
	if b.streak != 2 {
		t.Fatalf("streak %d after a stale success, want 2", b.streak)
	}
	b.success(16, b.epoch)
	b.rateLimited(14, b.epoch, 20, t0)
	if b.limit != 13 {
		t.Errorf("limit %d after a success and a decrease, want 13", b.limit)
	}
}

func TestAdaptiveBusyStopsProbing(t *testing.T) {
	a := timedAdaptive(4)
	a.admitted(5, t0)
	a.busy(2, 4, t0.Add(ms))
	if a.probe != 0 || a.current() != 4 {
		t.Fatalf("probe %d current %d after a busy sign, want none and 4", a.probe, a.current())
	}
	// No probe, and so no increase, for a round trip.
	if d := a.probeWait(t0.Add(4 * ms)); d != 37*ms || a.limit != 4 {
		t.Errorf("probe wait %v limit %d after a busy sign, want 37ms 4", d, a.limit)
	}
	if d := a.probeWait(t0.Add(41 * ms)); d != 0 {
		t.Errorf("probe wait %v a round trip later, want 0", d)
	}
}

// TestAdaptiveBusyUndoesRaise checks that a probe that settled before its
// answer came back does not raise the limit when that answer says the
// server queued it, nor when any answer from a request sent before the
// raise does; and that it stands once an answer at its level was served at
// once, unless a request sent before the raise comes back queued.
func TestAdaptiveBusyUndoesRaise(t *testing.T) {
	a := timedAdaptive(4)
	a.admitted(5, t0)
	a.probeWait(t0.Add(3 * ms)) // settles: 5
	a.busy(4, 5, t0.Add(4*ms))  // sent after the raise, below its level: says nothing of it
	if a.limit != 5 {
		t.Fatalf("limit %d after a busy answer at level 4 sent at limit 5, want 5", a.limit)
	}
	a.busy(5, 4, t0.Add(5*ms)) // the probe itself
	if a.limit != 4 {
		t.Fatalf("limit %d after a busy answer at the raised level, want 4", a.limit)
	}

	b := timedAdaptive(4)
	b.admitted(5, t0)
	b.probeWait(t0.Add(3 * ms))
	b.success(5, b.epoch) // served at once
	b.busy(5, 5, t0.Add(5*ms))
	if b.limit != 5 {
		t.Errorf("limit %d after a busy answer once the level was served, want 5", b.limit)
	}
	b.busy(3, 4, t0.Add(6*ms)) // sent before the raise, queued
	if b.limit != 4 {
		t.Errorf("limit %d after a busy answer sent before the raise, want 4", b.limit)
	}

	// Several raises while the first answers are out: the first busy
	// answer sent before them undoes them all.
	c := timedAdaptive(4)
	for i, level := range []int{5, 6, 7} {
		c.admitted(level, t0.Add(time.Duration(3*i)*ms))
		c.probeWait(t0.Add(time.Duration(3*i+3) * ms))
	}
	if c.limit != 7 {
		t.Fatalf("limit %d after three settled probes, want 7", c.limit)
	}
	c.busy(2, 4, t0.Add(10*ms))
	if c.limit != 4 {
		t.Errorf("limit %d after a busy answer sent at limit 4, want 4", c.limit)
	}
}

func TestAdaptiveBounds(t *testing.T) {
	a := newAdaptive(50, 2, 10)
	if a.limit != 10 {
		t.Errorf("initial limit %d, want clamped to 10", a.limit)
	}
	if d := a.probeWait(t0); d >= 0 {
		t.Errorf("probe wait %v at the max, want never (negative)", d)
	}
	for i := range 10 {
		a.rateLimited(2, uint64(i), 0, t0)
	}
	if a.limit != 2 {
		t.Errorf("limit %d, want min 2", a.limit)
	}
	if b := newAdaptive(0, 3, 10); b.limit != 3 {
		t.Errorf("initial limit %d, want clamped to 3", b.limit)
	}
}

func TestAdaptiveProbeGap(t *testing.T) {
	a := newAdaptive(4, 1, 100)
	if a.gap() != defaultGap || a.roundTrip() != defaultRTT {
		t.Errorf("gap %v round trip %v before any timing, want %v %v", a.gap(), a.roundTrip(), defaultGap, defaultRTT)
	}
	a.timed(false, 40*ms)
	if a.gap() != 5*ms || a.roundTrip() != 40*ms {
		t.Errorf("gap %v round trip %v from a 40ms success, want 5ms 40ms", a.gap(), a.roundTrip())
	}
	a.timed(true, ms)
	if a.gap() != 3*ms {
		t.Errorf("gap %v from a 1ms 429, want 3ms", a.gap())
	}
	a.timed(true, 2*ms) // a slow 429 widens the gap at once
	if a.gap() != 6*ms {
		t.Errorf("gap %v from a 2ms 429, want 6ms", a.gap())
	}
}

// TestLocalProbesOnlyWhenSaturated drives the in-process limiter on a
// fake clock: a request above the limit is admitted only when it would
// otherwise wait, and the limit rises only when such a probe settles.
func TestLocalProbesOnlyWhenSaturated(t *testing.T) {
	now := t0
	var limits []int
	l := newLocal(Config{Limits: Limits{InitialLimit: 2}, OnLimit: func(_ string, n int) { limits = append(limits, n) }})
	l.useClock(func() time.Time { return now })
	l.afterFunc = func(time.Duration, func()) {}
	// A guard, not a timing check: a request that wrongly waits fails.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ks := l.state("k")

	// Unsaturated successes teach nothing.
	for range 5 {
		pm, _ := l.Acquire(ctx, "k", transport.Interactive)
		pm.Release(Feedback{Outcome: transport.OK, Latency: 40 * ms})
	}
	if ks.alg.limit != 2 {
		t.Fatalf("limit %d after unsaturated successes, want 2", ks.alg.limit)
	}

	// Two in flight: a third request probes level 3.
	a, _ := l.Acquire(ctx, "k", transport.Interactive)
	b, _ := l.Acquire(ctx, "k", transport.Interactive)
	c, err := l.Acquire(ctx, "k", transport.Interactive)
	if err != nil || c.(*localPermit).level != 3 || ks.alg.probe != 3 {
		t.Fatalf("third request: err %v, probe %d; want a probe at level 3", err, ks.alg.probe)
	}
	// The probe settles once the gap has passed without a 429: the next
	// request that finds the key full is admitted at level 3, no probe.
	now = now.Add(ks.alg.gap())
	a.Release(Feedback{Outcome: transport.OK, Latency: 40 * ms})
	d, err := l.Acquire(ctx, "k", transport.Interactive)
	if err != nil {
		t.Fatalf("request after the probe's gap: %v, want admitted", err)
	}
	if d.(*localPermit).level != 3 || ks.alg.limit != 3 || ks.alg.probe != 0 {
		t.Fatalf("level %d limit %d probe %d after the probe's gap, want 3 3 0", d.(*localPermit).level, ks.alg.limit, ks.alg.probe)
	}
	for _, pm := range []Permit{b, c, d} {
		pm.Release(Feedback{Outcome: transport.OK, Latency: 40 * ms})
	}
	// OnLimit saw the probe's level come into force, once.
	if len(limits) != 1 || limits[0] != 3 {
		t.Errorf("OnLimit saw %v, want [3]", limits)
	}
	if ks.inFlight != 0 {
		t.Errorf("%d in flight, want 0", ks.inFlight)
	}
}

// TestAdaptiveClimbDoubles checks that after the cold start each probe
// that settles doubles the next one, within an eighth of the limit and
// slowBurst, and that a 429 or a busy sign starts again at one level.
func TestAdaptiveClimbDoubles(t *testing.T) {
	a := newAdaptive(400, 1, 10000)
	a.timed(false, 40*ms)
	a.timed(true, ms)
	a.answered = true
	at := t0
	var blocks []int
	for range 7 {
		if d := a.probeWait(at); d != 0 {
			t.Fatalf("probe wait %v at %v, want 0", d, at.Sub(t0))
		}
		from := a.limit
		a.admitted(a.limit+1, at)
		blocks = append(blocks, a.probe-from)
		at = at.Add(a.gap())
	}
	if want := []int{1, 2, 4, 8, 16, 16, 16}; !slices.Equal(blocks, want) {
		t.Errorf("probe blocks %v, want %v", blocks, want)
	}
	a.rateLimited(a.probe, a.epoch, a.limit, at)
	if a.step() != 1 {
		t.Errorf("block %d after a failed probe, want 1", a.step())
	}
	b := timedAdaptive(16)
	b.climb = maxClimb
	if got := b.step(); got != 2 {
		t.Errorf("block %d at limit 16, want 2 (an eighth)", got)
	}
	b.busy(16, 16, t0)
	if got := b.step(); got != 1 {
		t.Errorf("block %d after a busy sign, want 1", got)
	}
}

// TestAdaptiveGapBeforeAny429 checks the gap guessed before any 429 was
// timed: for streams, whose headers come back as fast as a 429 would, it
// is three times the fastest response, so that a probe does not settle
// before its 429 could be back.
func TestAdaptiveGapBeforeAny429(t *testing.T) {
	for _, c := range []struct {
		fastest, held, want time.Duration
	}{
		{20 * ms, 2000 * ms, 60 * ms},   // a stream: headers after a round trip
		{20 * ms, 400 * ms, 50 * ms},    // an eighth of the hold
		{300 * ms, 400 * ms, 50 * ms},   // JSON: headers at the end
		{800 * ms, 1600 * ms, 200 * ms}, // an eighth of the hold, above fastest/8
		{8 * ms, 8 * ms, ms},            // fastest/8 at least
	} {
		a := newAdaptive(10, 1, 100)
		a.timed(false, c.fastest)
		a.heldFor(c.held)
		if got := a.gap(); got != c.want {
			t.Errorf("fastest %v, held %v: gap %v, want %v", c.fastest, c.held, got, c.want)
		}
	}
}

// useClock makes now the limiter's clock.
func (l *localLimiter) useClock(now func() time.Time) {
	l.now = now
	l.since = func(t time.Time) time.Duration { return now().Sub(t) }
}
