package otelpacer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/replay"
	"github.com/pacerhttp/pacer/transport"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// sdk is an SDK set up for one test: spans go to an in-memory recorder and
// metrics to a manual reader.
type sdk struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
}

func newSDK(t testing.TB) *sdk {
	s := &sdk{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	s.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(s.spans))
	s.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	t.Cleanup(func() {
		_ = s.tp.Shutdown(context.Background())
		_ = s.mp.Shutdown(context.Background())
	})
	return s
}

func (s *sdk) telemetry(cfg Config) *Telemetry {
	cfg.TracerProvider, cfg.MeterProvider = s.tp, s.mp
	return New(cfg)
}

func (s *sdk) metrics(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// metric returns the named metric, or fails the test.
func findMetric(t testing.TB, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	t.Fatalf("metric %s not recorded", name)
	return metricdata.Metrics{}
}

// sumBy returns the sum of an int64 counter by the value of key.
func sumBy(t testing.TB, m metricdata.Metrics, key attribute.Key) map[string]int64 {
	t.Helper()
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is %T, not an int64 sum", m.Name, m.Data)
	}
	out := map[string]int64{}
	for _, dp := range sum.DataPoints {
		v, _ := dp.Attributes.Value(key)
		out[v.String()] += dp.Value
	}
	return out
}

// histBy returns count and sum of an int64 or float64 histogram by the
// value of key.
func histBy(t testing.TB, m metricdata.Metrics, key attribute.Key) (count map[string]uint64, sum map[string]float64) {
	t.Helper()
	count, sum = map[string]uint64{}, map[string]float64{}
	add := func(set attribute.Set, c uint64, s float64) {
		v, _ := set.Value(key)
		count[v.String()] += c
		sum[v.String()] += s
	}
	switch h := m.Data.(type) {
	case metricdata.Histogram[int64]:
		for _, dp := range h.DataPoints {
			add(dp.Attributes, dp.Count, float64(dp.Sum))
		}
	case metricdata.Histogram[float64]:
		for _, dp := range h.DataPoints {
			add(dp.Attributes, dp.Count, dp.Sum)
		}
	default:
		t.Fatalf("%s is %T, not a histogram", m.Name, m.Data)
	}
	return count, sum
}

func spanAttr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// fakeAPI is a minimal OpenAI-compatible chat endpoint: the next fail
// requests get 429, then requests are answered as JSON or, with
// "stream": true, as SSE chunks with a usage chunk when
// stream_options.include_usage is set.
type fakeAPI struct {
	*httptest.Server
	fail     atomic.Int32
	mu       sync.Mutex
	bodies   []string
	content  string // the answer's content; long to exercise the scanner
	requests atomic.Int32
}

func newFakeAPI(t testing.TB) *fakeAPI {
	f := &fakeAPI{content: "hello"}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	if f.fail.Add(-1) >= 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"error":{"message":"rate limited","type":"rate_limit_error"}}`)
		return
	}
	var req struct {
		Model         string `json:"model"`
		Stream        bool   `json:"stream"`
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[]}`)
		return
	}
	if err := json.Unmarshal(body, &req); err != nil && len(body) > 0 {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	content, _ := json.Marshal(f.content)
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"id":"c1","object":"chat.completion","model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}}`, req.Model, content)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	_, _ = io.WriteString(w, ": keep-alive\n\n")
	for i := 0; i < 3; i++ {
		_, _ = fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%s}}]}\n\n", req.Model, content)
		fl.Flush()
	}
	if req.StreamOptions.IncludeUsage {
		_, _ = fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":9,\"total_tokens\":14}}\n\n", req.Model)
	}
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
}

// retryLoop stands in for the retry layer, which this package cannot
// import: up to max attempts, it writes the attempt number to the record
// before each, resends on 429 with a fresh body, and throws the 429 away.
func retryLoop(max int, next http.RoundTripper) http.RoundTripper {
	return transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		req, rec := transport.EnsureRecord(req)
		for attempt := 1; ; attempt++ {
			rec.Update(func(f *transport.Facts) { f.Attempts = attempt })
			try, err := replay.Rewind(req)
			if err != nil {
				return nil, err
			}
			resp, err := next.RoundTrip(try)
			if err != nil {
				return nil, err
			}
			// Classify may read the body's first bytes, which can fire
			// the hooks that read the record: never call it inside Update.
			outcome := transport.Classify(resp, nil)
			rec.Update(func(f *transport.Facts) { f.Outcome = outcome })
			if resp.StatusCode != http.StatusTooManyRequests || attempt == max {
				return resp, nil
			}
			httpbody.DiscardResponse(resp)
		}
	})
}

// chatRequest builds a chat completion request as SDKs do (with GetBody).
func newChatRequest(t testing.TB, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

// manualClock makes tel's clock stand still until the returned advance
// moves it on.
func manualClock(tel *Telemetry) (advance func(time.Duration)) {
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	tel.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	return func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
}
