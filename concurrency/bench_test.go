package concurrency_test

import (
	"context"
	"testing"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/transport"
)

// BenchmarkAcquireRelease measures one Gate.Acquire and its release:
// uncontended, with 1000 permits of the key held by others (the cost must
// not grow with the requests in flight), and contended by 1000 goroutines
// (RunParallel with 500 per core on two cores) under a limit of 64, so
// that most of them queue. Each for a fixed gate and an adaptive one.
func BenchmarkAcquireRelease(b *testing.B) {
	for _, mode := range []struct {
		name string
		cfg  concurrency.Config
	}{
		{"fixed", concurrency.Config{Limits: concurrency.Limits{Limit: 1 << 20}}},
		{"adaptive", concurrency.Config{Limits: concurrency.Limits{InitialLimit: 10000, MaxLimit: 10000}}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			g := concurrency.New(mode.cfg)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				release, err := g.Acquire(ctx)
				if err != nil {
					b.Fatal(err)
				}
				release(transport.OK)
			}
		})
		b.Run(mode.name+"/1000-in-flight", func(b *testing.B) {
			g := concurrency.New(mode.cfg)
			ctx := context.Background()
			held := make([]func(transport.Outcome), 1000)
			for i := range held {
				held[i], _ = g.Acquire(ctx)
			}
			b.ReportAllocs()
			for b.Loop() {
				release, err := g.Acquire(ctx)
				if err != nil {
					b.Fatal(err)
				}
				release(transport.OK)
			}
			b.StopTimer()
			for _, r := range held {
				r(transport.OK)
			}
		})
		b.Run(mode.name+"/1000-goroutines", func(b *testing.B) {
			cfg := mode.cfg
			if cfg.Limit > 0 {
				cfg.Limit = 64
			} else {
				cfg.InitialLimit, cfg.MaxLimit = 64, 64
			}
			g := concurrency.New(cfg)
			b.ReportAllocs()
			b.SetParallelism(500)
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					release, err := g.Acquire(ctx)
					if err != nil {
						b.Error(err)
						return
					}
					release(transport.OK)
				}
			})
		})
	}
}
