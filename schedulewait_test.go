package pacer_test

import (
	"context"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/otelpacer"
)

// TestScheduleWaitReachesGate checks the stack end to end: when the API
// holds every answer with keep-alives before serving it, the keepalive layer
// tells the gate through the bodies it returns, under the telemetry layer's
// body wrappers too, and a saturated adaptive gate keeps its limit instead of
// probing above it. Without the waits, the same load raises the limit.
func TestScheduleWaitReachesGate(t *testing.T) {
	for _, tt := range []struct {
		name      string
		wait      bool
		telemetry bool
	}{
		{"no waits", false, false},
		{"waits", true, false},
		{"waits, telemetry recording", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := llmtest.Config{ServiceTime: 5 * time.Millisecond, Seed: 1}
			if tt.wait {
				cfg.Wait = llmtest.Wait{Share: 1, Duration: 10 * time.Millisecond, Interval: 2 * time.Millisecond}
			}
			srv := llmtest.NewServer(cfg)
			defer srv.Close()
			pc := pacer.Config{Gate: concurrency.Config{Limits: concurrency.Limits{InitialLimit: 2, MaxQueue: 100}}}
			if tt.telemetry {
				tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
				defer tp.Shutdown(context.Background())
				pc.Telemetry = otelpacer.Config{TracerProvider: tp}
			}
			st := pacer.New(pc)
			defer st.Close()
			defer st.CloseIdleConnections()
			client := st.Client()

			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 12 {
						resp, err := chat(context.Background(), client, srv.URL(), false)
						if err != nil {
							t.Error(err)
							return
						}
						if err := readAnswer(resp, false); err != nil {
							t.Error(err)
						}
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			limit, inFlight, _ := gateCounts(st)
			if inFlight != 0 {
				t.Errorf("%d in flight after every answer was read", inFlight)
			}
			if tt.wait && limit != 2 {
				t.Errorf("every answer waited to be scheduled, yet the limit went from 2 to %d", limit)
			}
			if !tt.wait && limit <= 2 {
				t.Errorf("saturated with no waits, the limit stayed at %d", limit)
			}
		})
	}
}
