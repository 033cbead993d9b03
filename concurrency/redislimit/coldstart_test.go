package redislimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/transport"
)

// TestColdStartProbesInBlocks: a key new to Redis starts in the fast cold
// start, shared by every process. After its first answer (a success that
// held its permit 4 s), a full gate at 40 sends a block of probes at once,
// floor(40·(2^(gap/round trip)−1)) = 3 of them with a gap of an eighth of
// the hold, from either process; a fourth request waits. The probe's 429
// ends the cold start: the next probe is one level.
func TestColdStartProbesInBlocks(t *testing.T) {
	g := newGroup(t, 2, redislimit.Config{Limits: concurrency.Limits{InitialLimit: 40}})
	ctx := context.Background()
	acquire := func(i int) concurrency.Permit {
		t.Helper()
		pm, err := g.lims[i%2].Acquire(ctx, "k", transport.Interactive)
		if err != nil {
			t.Fatal(err)
		}
		return pm
	}
	acquire(0).Release(concurrency.Feedback{Outcome: transport.OK, Latency: 4 * time.Second, Admitted: time.Now().Add(-4 * time.Second)})
	if slow := g.stateField(t, "k", "slow"); slow != 1 {
		t.Fatalf("slow %d for a new key, want 1 (the fast cold start)", slow)
	}

	var held []concurrency.Permit
	for i := range 40 {
		held = append(held, acquire(i))
	}
	for i := range 3 {
		held = append(held, acquire(i)) // levels 41 to 43: one block
	}
	if lim, probe := g.stateField(t, "k", "limit"), g.stateField(t, "k", "probe"); lim != 40 || probe != 43 {
		t.Fatalf("after a block of probes: limit %d, probe %d; want 40, 43", lim, probe)
	}
	if got := limitOf(g.lims[1], "k"); got != 43 {
		t.Errorf("limit in force %d seen by the other process, want 43", got)
	}
	waiter := acquireAsync(t, g.lims[1])
	testwait.For(t, func() bool { return g.card(t, "k", "queue") == 1 }, "the fourth request queued")

	// The top of the block is refused: a failed probe, which leaves the
	// limit, ends the cold start and holds probing off.
	top := held[len(held)-1]
	held = held[:len(held)-1]
	top.Release(concurrency.Feedback{Outcome: transport.RateLimited, Latency: time.Millisecond})
	if lim, slow, probe := g.stateField(t, "k", "limit"), g.stateField(t, "k", "slow"), g.stateField(t, "k", "probe"); lim != 40 || slow != 0 || probe != 0 {
		t.Errorf("after the probe's 429: limit %d, slow %d, probe %d; want 40, 0, 0", lim, slow, probe)
	}
	for _, pm := range held {
		release(pm)
	}
	release(<-waiter)
}
