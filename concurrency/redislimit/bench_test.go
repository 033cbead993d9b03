package redislimit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/pacerhttp/pacer/transport"
)

// BenchmarkAcquireRelease measures one uncontended Acquire and Release:
// through a redis-server on loopback (two script calls), and, as the
// baselines in the same run, through the in-process limiter and as two
// bare PINGs to the same server (the floor of two round trips); then the
// same with 1000 and 2500 leases of the key held, which must cost no more.
func BenchmarkAcquireRelease(b *testing.B) {
	rs := startRedis(b)
	b.Run("ping-x2", func(b *testing.B) {
		b.ReportAllocs()
		c := newClient(b, rs.Addr())
		ctx := context.Background()
		for b.Loop() {
			if err := c.Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
			if err := c.Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	lims := map[string]concurrency.Limiter{
		"local": concurrency.NewLimiter(concurrency.Config{Limits: concurrency.Limits{Limit: 1 << 20}}),
	}
	rl := redislimit.New(newClient(b, rs.Addr()), redislimit.Config{Prefix: uniquePrefix(b), Limits: concurrency.Limits{Limit: 1 << 20}})
	defer rl.Close()
	lims["redis"] = rl
	fb := concurrency.Feedback{Outcome: transport.OK}
	for _, name := range []string{"local", "redis"} {
		l := lims[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				pm, err := l.Acquire(ctx, "k", transport.Interactive)
				if err != nil {
					b.Fatal(err)
				}
				pm.Release(fb)
			}
		})
		for _, n := range []int{1000, 2500} {
			b.Run(fmt.Sprintf("%s/%d-in-flight", name, n), func(b *testing.B) {
				ctx := context.Background()
				held := make([]concurrency.Permit, n)
				for i := range held {
					pm, err := l.Acquire(ctx, "held", transport.Interactive)
					if err != nil {
						b.Fatal(err)
					}
					held[i] = pm
				}
				b.ReportAllocs()
				for b.Loop() {
					pm, err := l.Acquire(ctx, "held", transport.Interactive)
					if err != nil {
						b.Fatal(err)
					}
					pm.Release(fb)
				}
				b.StopTimer()
				for _, pm := range held {
					pm.Release(fb)
				}
			})
		}
		b.Run(name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					pm, err := l.Acquire(ctx, "k", transport.Interactive)
					if err != nil {
						b.Error(err)
						return
					}
					pm.Release(fb)
				}
			})
		})
	}
}
