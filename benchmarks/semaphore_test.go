package benchmarks

import (
	"context"
	"runtime"
	"testing"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/transport"
	"golang.org/x/sync/semaphore"
)

// BenchmarkAcquireRelease measures one uncontended Acquire and release,
// beside x/sync/semaphore and a buffered channel.
func BenchmarkAcquireRelease(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		cfg  concurrency.Config
	}{
		{"gate", concurrency.Config{Limits: concurrency.Limits{Limit: 64}}},
		{"gate-adaptive", concurrency.Config{Limits: concurrency.Limits{InitialLimit: 64}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			g := concurrency.New(bc.cfg)
			b.ReportAllocs()
			for b.Loop() {
				release, err := g.Acquire(ctx)
				if err != nil {
					b.Fatal(err)
				}
				release(transport.OK)
			}
		})
	}
	b.Run("semaphore", func(b *testing.B) {
		s := semaphore.NewWeighted(64)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Acquire(ctx, 1); err != nil {
				b.Fatal(err)
			}
			s.Release(1)
		}
	})
	b.Run("channel", func(b *testing.B) {
		ch := make(chan struct{}, 64)
		b.ReportAllocs()
		for b.Loop() {
			ch <- struct{}{}
			<-ch
		}
	})
}

// BenchmarkContended runs 64 goroutines against a limit of 8: most
// acquisitions wait in the queue.
func BenchmarkContended(b *testing.B) {
	ctx := context.Background()
	const limit = 8
	b.Run("gate", func(b *testing.B) {
		g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: limit}})
		b.ReportAllocs()
		runParallel64(b, func() {
			release, err := g.Acquire(ctx)
			if err != nil {
				b.Error(err)
				return
			}
			release(transport.OK)
		})
	})
	b.Run("semaphore", func(b *testing.B) {
		s := semaphore.NewWeighted(limit)
		b.ReportAllocs()
		runParallel64(b, func() {
			if err := s.Acquire(ctx, 1); err != nil {
				b.Error(err)
				return
			}
			s.Release(1)
		})
	})
	b.Run("channel", func(b *testing.B) {
		ch := make(chan struct{}, limit)
		b.ReportAllocs()
		runParallel64(b, func() {
			ch <- struct{}{}
			<-ch
		})
	})
}

// runParallel64 runs f from 64 goroutines in all, whatever GOMAXPROCS is.
func runParallel64(b *testing.B, f func()) {
	b.SetParallelism(max(1, 64/gomaxprocs()))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f()
		}
	})
}

func gomaxprocs() int { return runtime.GOMAXPROCS(0) }
