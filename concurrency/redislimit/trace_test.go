package redislimit_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/pacerhttp/pacer/internal/policy/policytrace"
	"github.com/pacerhttp/pacer/transport"
	"github.com/redis/go-redis/v9"
)

// TestPolicyTraces replays the shared trace table through the scripts, on
// a real redis-server, with the scripts' clock set to each step's instant;
// the concurrency package replays the same table through the in-process
// limiter.
func TestPolicyTraces(t *testing.T) {
	rs := startRedis(t)
	rdb := newClient(t, rs.Addr())
	acquire, release, cancel, stats := redislimit.TraceScripts()
	kinds := map[transport.Outcome]int{transport.OK: 1, transport.RateLimited: 2, transport.Overloaded: 3}
	ctx := context.Background()
	for _, tr := range policytrace.Traces {
		t.Run(tr.Name, func(t *testing.T) {
			base := uniquePrefix(t) + "{k}:"
			keys := []string{base + "leases", base + "queue", base + "tickets", base + "state"}
			run := func(s *redis.Script, args ...any) []any {
				t.Helper()
				const ttl = time.Hour
				all := append([]any{ttl.Milliseconds(), 2 * ttl.Milliseconds(), ttl.Milliseconds(),
					0, tr.Initial, tr.Min, tr.Max, base + "notify", "k", tr.Growth}, args...)
				v, err := s.Run(ctx, rdb, keys, all...).Slice()
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			type lease struct {
				id                 string
				level, epoch, base int64
			}
			var admitted []lease
			start := time.Unix(1_000_000, 0)
			for i, st := range tr.Steps {
				if err := rdb.HSet(ctx, keys[3], "clock", start.Add(st.At).UnixMicro()).Err(); err != nil {
					t.Fatal(err)
				}
				if st.Release {
					ls := admitted[st.Req]
					run(release, ls.id, kinds[st.Outcome], ls.level, ls.epoch, st.Latency.Microseconds(), ls.base, 0, st.Held.Microseconds())
				} else {
					id := "r" + strconv.Itoa(i)
					v := run(acquire, id, 0, 1000)
					got := v[0].(int64) == 1
					if got != st.Admitted {
						t.Fatalf("step %d (%+v): admitted %v, want %v", i, st, got, st.Admitted)
					}
					if got {
						admitted = append(admitted, lease{id: id, level: v[3].(int64), epoch: v[2].(int64), base: v[4].(int64)})
					} else {
						run(cancel, id) // turned away: no ticket waits
					}
				}
				if limit := run(stats)[0].(int64); int(limit) != st.Limit {
					t.Fatalf("step %d (%+v): limit %d, want %d", i, st, limit, st.Limit)
				}
			}
		})
	}
}
