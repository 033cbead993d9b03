package scratchbench

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/internal/loadgen"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

func TestGoodputVariants(t *testing.T) {
	cfg := llmtest.Config{
		Phases:      []llmtest.Phase{{Limit: 16, Duration: 2 * time.Second}, {Limit: 6, Duration: 2 * time.Second}, {Limit: 24, Duration: 2 * time.Second}},
		ServiceTime: 40 * time.Millisecond,
		Punishment:  llmtest.Punishment{Threshold: 30, Window: time.Second, Factor: 0.5, Duration: 2 * time.Second},
		Seed:        1,
	}
	variants := map[string]func(base http.RoundTripper) http.RoundTripper{
		"pacer": func(b http.RoundTripper) http.RoundTripper { return pacer.New(pacer.Config{Base: b}) },
		"gate+retry": func(b http.RoundTripper) http.RoundTripper {
			return transport.Chain(b, retry.New(retry.Config{}).Wrap, concurrency.New(concurrency.Config{}).Wrap)
		},
		"pacer-no-otel-breaker": func(b http.RoundTripper) http.RoundTripper {
			return pacer.New(pacer.Config{Base: b, Without: pacer.LayerTelemetry | pacer.LayerBreaker})
		},
	}
	for _, name := range []string{"gate+retry", "pacer", "pacer-no-otel-breaker", "gate+retry", "pacer"} {
		srv := llmtest.NewServer(cfg)
		counter := &loadgen.Counter{Base: http.DefaultTransport.(*http.Transport).Clone()}
		c := &http.Client{Transport: variants[name](counter)}
		r := loadgen.Start(context.Background(), loadgen.Workload{Client: c, URL: srv.URL() + "/chat/completions", Model: "m", Requests: 1500, Callers: 48})
		s := r.Wait()
		st := srv.Stats()
		ideal := st.MeanLimit() / 0.04 * s.Elapsed.Seconds()
		t.Logf("%-22s ok %d/%d in %.2fs  attempts %d 429s %d  ok/meanlimit-ideal %.2f  p99 %v", name, s.OK, 1500, s.Elapsed.Seconds(), counter.Stats().Attempts, counter.Stats().RateLimited, float64(s.OK)/ideal, s.P99)
		srv.Close()
	}
}
