package concurrency

import (
	"testing"
	"time"
)

var t0 = time.Unix(1000, 0)

func TestAdaptiveClimbsOnlyWhenSaturated(t *testing.T) {
	a := newAdaptive(4, 1, 100)
	if a.success(4, 0, false) || a.limit != 4 {
		t.Fatalf("unsaturated success raised the limit to %d", a.limit)
	}
	for i := range 4 {
		if !a.success(4, 0, true) {
			t.Fatalf("saturated success %d did not raise the limit", i)
		}
	}
	if a.limit != 8 {
		t.Errorf("after one round trip of saturated successes the limit is %d, want 8 (doubled)", a.limit)
	}
	// Slow start never goes beyond twice the safe level in one go.
	for range 20 {
		a.success(4, 0, true)
	}
	if a.limit != 2*a.safe+1 {
		t.Errorf("limit %d with safe %d: want at most 2·safe+1", a.limit, a.safe)
	}
}

func TestAdaptiveOneSignalPerBurst(t *testing.T) {
	a := newAdaptive(16, 1, 100)
	a.success(16, 0, true)
	a.limit = 20 // probing
	if !a.rateLimited(17, 0) || a.limit != 16 {
		t.Fatalf("first 429 at level 17: limit %d, want 16", a.limit)
	}
	// The rest of the burst, sent before the decrease, is ignored.
	for x := 18; x <= 20; x++ {
		if a.rateLimited(x, 0) || a.limit != 16 {
			t.Fatalf("429 from the same burst changed the limit to %d", a.limit)
		}
	}
	// A success sent before the decrease does not raise it either.
	if a.success(20, 0, true) || a.limit != 16 {
		t.Errorf("stale success raised the limit to %d", a.limit)
	}
	if a.ceiling != 16 {
		t.Errorf("ceiling %d, want 16", a.ceiling)
	}
}

func TestAdaptiveDipThenDrop(t *testing.T) {
	a := newAdaptive(16, 1, 100)
	a.success(16, 0, true)
	a.rateLimited(17, 0) // overshoot: ceiling 16
	if a.limit != 16 || a.ceiling != 16 {
		t.Fatalf("limit %d ceiling %d after an overshoot, want 16 16", a.limit, a.ceiling)
	}
	// A 429 at the ceiling is a dip: one step down, ceiling kept, and the
	// next success of the epoch climbs back.
	a.rateLimited(16, a.epoch)
	if a.limit != 15 || a.ceiling != 16 {
		t.Fatalf("limit %d ceiling %d after a dip, want 15 16", a.limit, a.ceiling)
	}
	a.success(15, a.epoch, true)
	if a.limit != 16 {
		t.Fatalf("limit %d after a success, want back at 16", a.limit)
	}
	// 429s after each decrease with no success between: a drop. Halve.
	a.rateLimited(16, a.epoch)
	a.rateLimited(15, a.epoch)
	if a.limit != 14 {
		t.Fatalf("limit %d after two dips, want 14", a.limit)
	}
	a.rateLimited(14, a.epoch)
	if a.limit != 7 || a.ceiling != 0 {
		t.Fatalf("limit %d ceiling %d after a drop, want 7 and climbing", a.limit, a.ceiling)
	}
	// Climbing finds the new level with one overshoot.
	a.success(7, a.epoch, true)
	a.rateLimited(8, a.epoch)
	if a.limit != 7 || a.ceiling != 7 {
		t.Errorf("limit %d ceiling %d, want 7 7", a.limit, a.ceiling)
	}
}

func TestAdaptiveRepeatedDipLowersCeiling(t *testing.T) {
	a := newAdaptive(16, 1, 100)
	a.success(16, 0, true)
	a.rateLimited(17, 0) // ceiling 16
	a.rateLimited(16, a.epoch)
	a.success(15, a.epoch, true) // back to 16
	a.rateLimited(16, a.epoch)   // the ceiling level failed again
	if a.limit != 15 || a.ceiling != 15 {
		t.Errorf("limit %d ceiling %d after a second dip at the ceiling, want 15 15", a.limit, a.ceiling)
	}
}

func TestAdaptiveHoldsThenProbes(t *testing.T) {
	a := newAdaptive(6, 1, 100)
	a.success(6, 0, true)
	a.rateLimited(7, 0) // ceiling 6, epoch 1
	if a.limit != 6 || a.ceiling != 6 {
		t.Fatalf("limit %d ceiling %d, want 6 6", a.limit, a.ceiling)
	}
	probe := func() int {
		n := 0
		for a.limit == 6 {
			a.success(6, a.epoch, true)
			n++
			if n > 1000 {
				t.Fatal("never probed")
			}
		}
		return n
	}
	// Hold one round trip (6 successes), then probe one above.
	if n := probe(); n != 6 || a.limit != 7 {
		t.Fatalf("probed after %d successes to %d; want 6, 7", n, a.limit)
	}
	// The probe fails: back to 6, and the next hold is twice as long.
	a.rateLimited(7, a.epoch)
	if n := probe(); n != 12 {
		t.Errorf("second probe after %d successes, want 12", n)
	}
	a.rateLimited(7, a.epoch)
	a.rateLimited(7, 0) // stale
	if n := probe(); n != 24 {
		t.Errorf("third probe after %d successes, want 24", n)
	}
	a.rateLimited(7, a.epoch)
	if n := probe(); n != 24 {
		t.Errorf("fourth probe after %d successes, want 24 (maxHold)", n)
	}
	// This probe succeeds: the server's limit rose; the climb resumes.
	a.success(7, a.epoch, true)
	if a.limit != 8 {
		t.Errorf("limit %d after a successful probe, want 8", a.limit)
	}
	a.rateLimited(12, a.epoch) // new ceiling well above the old one
	if a.hold != a.minHold {
		t.Errorf("hold %d after progress, want %d", a.hold, a.minHold)
	}
}

func TestAdaptiveBusyStopsIncrease(t *testing.T) {
	a := newAdaptive(4, 1, 100)
	for i := range 100 {
		if i%3 == 0 {
			a.busy() // a schedule wait at least once per round trip
		}
		a.success(4, 0, true)
	}
	if a.limit != 4 {
		t.Errorf("limit %d with schedule waits, want 4", a.limit)
	}
	// A clean round trip at the limit lets probing start again.
	for range 4 {
		a.success(4, 0, true)
	}
	if a.limit <= 4 {
		t.Errorf("limit %d after a clean round trip, want it to probe above 4", a.limit)
	}
}

func TestAdaptiveBounds(t *testing.T) {
	a := newAdaptive(50, 2, 10)
	if a.limit != 10 {
		t.Errorf("initial limit %d, want clamped to 10", a.limit)
	}
	for range 100 {
		a.success(10, 0, true)
	}
	if a.limit != 10 {
		t.Errorf("limit %d above max 10", a.limit)
	}
	for i := range 10 {
		a.rateLimited(2, uint64(i))
	}
	if a.limit != 2 {
		t.Errorf("limit %d, want min 2", a.limit)
	}
}

func TestAdaptiveProbeGap(t *testing.T) {
	a := newAdaptive(4, 1, 100)
	if a.gap() != defaultGap {
		t.Errorf("gap %v before any timing, want %v", a.gap(), defaultGap)
	}
	a.timed(false, 40*time.Millisecond)
	if a.gap() != 5*time.Millisecond {
		t.Errorf("gap %v from a 40ms success, want 5ms", a.gap())
	}
	a.timed(true, 1*time.Millisecond)
	if a.gap() != 3*time.Millisecond {
		t.Errorf("gap %v from a 1ms 429, want 3ms", a.gap())
	}
	// One probe at a time: a second level above safe waits for the gap.
	a.admitted(5, t0)
	if d := a.probeWait(t0.Add(time.Millisecond)); d != 2*time.Millisecond {
		t.Errorf("probe wait %v, want 2ms", d)
	}
	if d := a.probeWait(t0.Add(3 * time.Millisecond)); d != 0 || a.safe != 5 {
		t.Errorf("probe wait %v, safe %d after the gap; want 0, 5", d, a.safe)
	}
}
