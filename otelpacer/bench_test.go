package otelpacer

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/transport"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

const benchResponse = `{"id":"c1","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}}`
const benchRequest = `{"model":"deepseek-chat","messages":[{"role":"user","content":"Hello"}]}`

// benchStacks returns the stacks compared: no layer, both layers with the
// global providers (no SDK installed: no-op), both layers with the SDK
// recording every span (no exporter) and every metric (a manual reader).
func benchStacks(b *testing.B, base http.RoundTripper) []struct {
	name string
	rt   http.RoundTripper
} {
	noop := New(Config{})
	tp := sdktrace.NewTracerProvider()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	rec := New(Config{TracerProvider: tp, MeterProvider: mp})
	return []struct {
		name string
		rt   http.RoundTripper
	}{
		{"bare", base},
		{"noop", transport.Chain(base, noop.Wrap, noop.WrapAttempt)},
		{"sdk", transport.Chain(base, rec.Wrap, rec.WrapAttempt)},
	}
}

func runBench(b *testing.B, rt http.RoundTripper, url string) {
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(benchRequest))
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}

// BenchmarkOverhead measures the layers alone, over a base that answers at
// once from memory.
func BenchmarkOverhead(b *testing.B) {
	base := transport.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		httpbody.CloseRequest(r)
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(benchResponse)), Request: r}, nil
	})
	for _, s := range benchStacks(b, base) {
		b.Run(s.name, func(b *testing.B) { runBench(b, s.rt, "http://api.example/v1/chat/completions") })
	}
}

// BenchmarkLoopback measures a whole request to a loopback server.
func BenchmarkLoopback(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchResponse)
	}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	for _, s := range benchStacks(b, base) {
		b.Run(s.name, func(b *testing.B) { runBench(b, s.rt, srv.URL+"/v1/chat/completions") })
	}
}
