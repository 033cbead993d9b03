package concurrency

import (
	"context"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/internal/policy/policytrace"
)

// TestPolicyTraces replays the shared trace table through the in-process
// limiter; redislimit replays the same table through its scripts.
func TestPolicyTraces(t *testing.T) {
	for _, tr := range policytrace.Traces {
		t.Run(tr.Name, func(t *testing.T) {
			var cfg Config
			cfg.InitialLimit, cfg.MinLimit, cfg.MaxLimit, cfg.MaxGrowth = tr.Initial, tr.Min, tr.Max, tr.Growth
			l := newLocal(cfg)
			var now time.Time
			l.useClock(func() time.Time { return now })
			l.afterFunc = func(time.Duration, func()) {} // nothing queues
			gone, cancel := context.WithCancel(context.Background())
			cancel() // a request that may not go at once is turned away
			var admitted []Permit
			for i, st := range tr.Steps {
				now = t0.Add(st.At)
				if st.Release {
					admitted[st.Req].Release(Feedback{Outcome: st.Outcome, Admitted: now.Add(-st.Held), Latency: st.Latency})
				} else {
					pm, err := l.Acquire(gone, "k", 0)
					if got := err == nil; got != st.Admitted {
						t.Fatalf("step %d (%+v): admitted %v, want %v", i, st, got, st.Admitted)
					}
					if pm != nil {
						admitted = append(admitted, pm)
					}
				}
				var limit int
				l.Each(func(_ string, s KeyStats) { limit = s.Limit })
				if limit != st.Limit {
					t.Fatalf("step %d (%+v): limit %d, want %d", i, st, limit, st.Limit)
				}
			}
		})
	}
}
