package pacer_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/otelpacer"
	"github.com/pacerhttp/pacer/retry"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// scriptedAPI answers each request with the next status of its script,
// then 200 with a chat completion; 503 when overloaded is set.
type scriptedAPI struct {
	*httptest.Server
	script     chan int
	overloaded atomic.Bool
}

func newScriptedAPI(t *testing.T, script ...int) *scriptedAPI {
	a := &scriptedAPI{script: make(chan int, len(script))}
	for _, s := range script {
		a.script <- s
	}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		status := http.StatusOK
		select {
		case status = <-a.script:
		default:
			if a.overloaded.Load() {
				status = http.StatusServiceUnavailable
			}
		}
		w.WriteHeader(status)
		if status != http.StatusOK {
			_, _ = io.WriteString(w, `{"error":{"message":"try later"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *scriptedAPI) call(t *testing.T, c *http.Client) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, a.URL+"/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func attrOf(set attribute.Set, key string) string {
	v, _ := set.Value(attribute.Key(key))
	return v.AsString()
}

// TestTelemetryKeyMatchesGauges sends a request that is retried after a
// 429 through the default stack: the 429 counted in pacer.attempts and the
// gate's pacer.gate.limit carry the same pacer.gate.key, the gate's own
// key for the host and model.
func TestTelemetryKeyMatchesGauges(t *testing.T) {
	api := newScriptedAPI(t, http.StatusTooManyRequests)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	st := pacer.New(pacer.Config{
		Retry:     retry.Config{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, RateLimitedBaseDelay: time.Millisecond},
		Telemetry: otelpacer.Config{MeterProvider: mp},
	})
	defer func() { _ = st.Close() }()
	defer st.CloseIdleConnections()
	if got := api.call(t, st.Client()); got != http.StatusOK {
		t.Fatalf("status %d, want 200 after the retry", got)
	}

	want := strings.TrimPrefix(api.URL, "http://") + " m"
	if ks, ok := st.Gate.Stats().Key(want); !ok || ks.Limit == 0 {
		t.Fatalf("the gate has no key %q: %+v", want, st.Gate.Stats())
	}
	ms := collect(t, reader)
	limits := map[string]int64{}
	for _, dp := range ms["pacer.gate.limit"].Data.(metricdata.Gauge[int64]).DataPoints {
		limits[attrOf(dp.Attributes, "pacer.gate.key")] = dp.Value
	}
	if _, ok := limits[want]; !ok || len(limits) != 1 {
		t.Errorf("pacer.gate.limit keys %v, want only %q", limits, want)
	}
	rateLimited := 0
	for _, dp := range ms["pacer.attempts"].Data.(metricdata.Sum[int64]).DataPoints {
		if attrOf(dp.Attributes, "pacer.outcome") != "rate_limited" {
			continue
		}
		rateLimited += int(dp.Value)
		if k := attrOf(dp.Attributes, "pacer.gate.key"); k != want {
			t.Errorf("the 429 counted under pacer.gate.key %q, the gauge under %q", k, want)
		}
	}
	if rateLimited != 1 {
		t.Errorf("%d rate-limited attempts counted, want 1", rateLimited)
	}
	for _, dp := range ms["pacer.requests"].Data.(metricdata.Sum[int64]).DataPoints {
		if k := attrOf(dp.Attributes, "pacer.gate.key"); k != want {
			t.Errorf("pacer.requests under pacer.gate.key %q, want %q", k, want)
		}
	}
}

// TestTelemetryBreakerStatus opens the stack's breaker with 503s:
// pacer.breaker.status reports the circuit closed after its first request,
// then open, and a hook set in Breaker.OnStateChange is still called.
func TestTelemetryBreakerStatus(t *testing.T) {
	api := newScriptedAPI(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	var changes atomic.Int32
	st := pacer.New(pacer.Config{
		Retry: retry.Config{MaxAttempts: 1},
		Breaker: breaker.Config{MinRequests: 2, FailureRate: 0.5, Delay: time.Hour,
			OnStateChange: func(string, breaker.State, breaker.State) { changes.Add(1) }},
		Telemetry: otelpacer.Config{MeterProvider: mp},
	})
	defer func() { _ = st.Close() }()
	defer st.CloseIdleConnections()
	c := st.Client()

	if got := api.call(t, c); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	host := strings.TrimPrefix(api.URL, "http://")
	status := func() map[string]int64 {
		got := map[string]int64{}
		for _, dp := range collect(t, reader)["pacer.breaker.status"].Data.(metricdata.Sum[int64]).DataPoints {
			if k := attrOf(dp.Attributes, "pacer.breaker.key"); k != host {
				t.Errorf("pacer.breaker.key %q, want %q", k, host)
			}
			got[attrOf(dp.Attributes, "pacer.breaker.state")] = dp.Value
		}
		return got
	}
	if got := status(); len(got) != 3 || got["closed"] != 1 || got["open"] != 0 {
		t.Errorf("pacer.breaker.status %v after one request, want closed 1", got)
	}
	api.overloaded.Store(true)
	for i := 0; i < 10 && st.Breaker.StateOf(host) != breaker.Open; i++ {
		api.call(t, c)
	}
	if s := st.Breaker.StateOf(host); s != breaker.Open {
		t.Fatalf("breaker %v after 503s, want open", s)
	}
	if changes.Load() == 0 {
		t.Error("the Breaker.OnStateChange hook was not called")
	}

	if got := status(); len(got) != 3 || got["open"] != 1 || got["closed"] != 0 || got["half-open"] != 0 {
		t.Errorf("pacer.breaker.status %v, want open 1, closed 0, half-open 0", got)
	}
}

// TestTelemetryRateLimitGauges sends requests to the OpenAI personality of
// llmtest, whose windows announce themselves in x-ratelimit-* headers: the
// stack's telemetry shows each window's size and what is left of it, under
// the gate's key, as the quota layer believes it.
func TestTelemetryRateLimitGauges(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{Provider: llmtest.OpenAI, Windows: llmtest.Windows{Requests: 100, Tokens: 10000, Period: time.Hour}})
	defer srv.Close()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	st := pacer.New(pacer.Config{Telemetry: otelpacer.Config{MeterProvider: mp}})
	defer func() { _ = st.Close() }()
	defer st.CloseIdleConnections()
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","max_tokens":10,"messages":[]}`))
		resp, err := st.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	key := strings.TrimPrefix(srv.URL(), "http://")
	key = strings.TrimSuffix(key, "/v1") + " gpt-4o-mini"
	ms := collect(t, reader)
	got := map[string][2]int64{}
	for _, name := range []string{"pacer.ratelimit.limit", "pacer.ratelimit.remaining"} {
		for _, dp := range ms[name].Data.(metricdata.Gauge[int64]).DataPoints {
			if k := attrOf(dp.Attributes, "pacer.gate.key"); k != key {
				t.Errorf("%s under key %q, want %q", name, k, key)
			}
			v := got[attrOf(dp.Attributes, "pacer.ratelimit.kind")]
			if name == "pacer.ratelimit.limit" {
				v[0] = dp.Value
			} else {
				v[1] = dp.Value
			}
			got[attrOf(dp.Attributes, "pacer.ratelimit.kind")] = v
		}
	}
	if got["requests"] != [2]int64{100, 97} || got["tokens"][0] != 10000 || got["tokens"][1] >= 10000 || len(got) != 2 {
		t.Errorf("rate-limit gauges %v, want requests 100/97 and tokens 10000/less", got)
	}
}
