package otelpacer

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/transport"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// testKey is a gate key as the concurrency gate's default makes them: host
// and port, then the model.
const testKey = "api.test:443 m"

// keyGate writes what a gate keyed by testKey writes, 10ms of wait per
// attempt; its EachKey reports testKey as the gate gauges read it.
type keyGate struct{}

func (keyGate) EachKey(fn func(key string, limit, inFlight, queued int)) { fn(testKey, 7, 1, 0) }

func (keyGate) wrap(next http.RoundTripper) http.RoundTripper {
	return transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		transport.RecordFrom(req.Context()).Update(func(f *transport.Facts) {
			f.GateWait += 10 * time.Millisecond
			f.GateKey = testKey
		})
		return next.RoundTrip(req)
	})
}

// pointSets returns the attribute sets of every data point of m.
func pointSets(t testing.TB, m metricdata.Metrics) []attribute.Set {
	t.Helper()
	var sets []attribute.Set
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			sets = append(sets, dp.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, dp := range d.DataPoints {
			sets = append(sets, dp.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			sets = append(sets, dp.Attributes)
		}
	case metricdata.Histogram[int64]:
		for _, dp := range d.DataPoints {
			sets = append(sets, dp.Attributes)
		}
	default:
		t.Fatalf("%s is %T", m.Name, m.Data)
	}
	if len(sets) == 0 {
		t.Fatalf("%s has no data points", m.Name)
	}
	return sets
}

// TestOneKeyLabel: a request retried after a 429 through a gate, with and
// without the attempt layer, gives every pacer metric about the gate key
// the same pacer.gate.key as the gate's gauges, keeps server.address on
// them, and leaves the conventions' metrics to the conventions' attributes.
func TestOneKeyLabel(t *testing.T) {
	for _, withAttempt := range []bool{true, false} {
		name := "logical only"
		if withAttempt {
			name = "with attempt layer"
		}
		t.Run(name, func(t *testing.T) {
			s := newSDK(t)
			api := newFakeAPI(t)
			api.fail.Store(1)
			tel := s.telemetry(Config{Gates: []GateStats{keyGate{}}})
			mw := []transport.Middleware{tel.Wrap,
				func(next http.RoundTripper) http.RoundTripper { return retryLoop(3, next) },
				keyGate{}.wrap, fakeKeepalive}
			if withAttempt {
				mw = []transport.Middleware{mw[0], mw[1], mw[2], tel.WrapAttempt, mw[3]}
			}
			resp, err := transport.Chain(nil, mw...).RoundTrip(newChatRequest(t, api.URL, `{"model":"m"}`))
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()

			rm := s.metrics(t)
			for _, name := range []string{"pacer.requests", "pacer.attempts", "pacer.retries", "pacer.gate.wait", "pacer.schedule.wait", "pacer.gate.limit"} {
				for _, set := range pointSets(t, findMetric(t, rm, name)) {
					if v, _ := set.Value(attrGateKey); v.AsString() != testKey {
						t.Errorf("%s point %v: pacer.gate.key %q, want %q", name, set.ToSlice(), v.AsString(), testKey)
					}
					if _, ok := set.Value(attrServerAddress); !ok && name != "pacer.gate.limit" {
						t.Errorf("%s point %v has no server.address", name, set.ToSlice())
					}
				}
			}
			if got := sumBy(t, findMetric(t, rm, "pacer.attempts"), attrGateKey); withAttempt && got[testKey] != 2 {
				t.Errorf("pacer.attempts by key %v, want 2 for %q", got, testKey)
			}
			for _, name := range []string{"http.client.request.duration", "gen_ai.client.operation.duration", "gen_ai.client.token.usage"} {
				for _, set := range pointSets(t, findMetric(t, rm, name)) {
					if _, ok := set.Value(attrGateKey); ok {
						t.Errorf("%s carries pacer.gate.key", name)
					}
				}
			}
		})
	}
}

// Without a gate in the stack the key label is absent, not empty.
func TestNoGateNoKeyLabel(t *testing.T) {
	s := newSDK(t)
	api := newFakeAPI(t)
	tel := s.telemetry(Config{})
	resp, err := transport.Chain(nil, tel.Wrap, tel.WrapAttempt).RoundTrip(newChatRequest(t, api.URL, `{"model":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	rm := s.metrics(t)
	for _, name := range []string{"pacer.requests", "pacer.attempts"} {
		for _, set := range pointSets(t, findMetric(t, rm, name)) {
			if _, ok := set.Value(attrGateKey); ok {
				t.Errorf("%s carries pacer.gate.key without a gate", name)
			}
		}
	}
}

// fakeBreaker reports two circuits, and one in a state no breaker has.
type fakeBreaker struct{}

func (fakeBreaker) EachKey(fn func(key, state string)) {
	fn("api.deepseek.com", "open")
	fn("api.openai.com", "half-open")
	fn("api.x.ai", "jammed")
}

// TestBreakerStatus: pacer.breaker.status is a non-monotonic sum with a
// point per circuit and state, 1 for the circuit's state and 0 for the
// others; an unknown state leaves its circuit out; Close stops it.
func TestBreakerStatus(t *testing.T) {
	s := newSDK(t)
	tel := s.telemetry(Config{Breakers: []BreakerStates{fakeBreaker{}, nil}})
	m := findMetric(t, s.metrics(t), "pacer.breaker.status")
	if m.Unit != "1" {
		t.Errorf("unit %q, want 1", m.Unit)
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok || sum.IsMonotonic {
		t.Fatalf("pacer.breaker.status is %T (monotonic %v), want a non-monotonic int64 sum", m.Data, sum.IsMonotonic)
	}
	got := map[[2]string]int64{}
	for _, dp := range sum.DataPoints {
		k, _ := dp.Attributes.Value(attrBreakerKey)
		st, _ := dp.Attributes.Value(attrBreaker)
		got[[2]string{k.AsString(), st.AsString()}] = dp.Value
	}
	want := map[[2]string]int64{
		{"api.deepseek.com", "closed"}: 0, {"api.deepseek.com", "half-open"}: 0, {"api.deepseek.com", "open"}: 1,
		{"api.openai.com", "closed"}: 0, {"api.openai.com", "half-open"}: 1, {"api.openai.com", "open"}: 0,
	}
	if len(got) != len(want) {
		t.Errorf("points %v, want %v", got, want)
	}
	for k, w := range want {
		if v, ok := got[k]; !ok || v != w {
			t.Errorf("%v = %d (present %v), want %d", k, v, ok, w)
		}
	}
	if err := tel.Close(); err != nil {
		t.Fatal(err)
	}
	for _, sm := range s.metrics(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "pacer.breaker.status" {
				t.Error("pacer.breaker.status still observed after Close")
			}
		}
	}
}

// Breakers alone register the breaker gauge and no gate gauge.
func TestBreakersWithoutGates(t *testing.T) {
	s := newSDK(t)
	s.telemetry(Config{Breakers: []BreakerStates{fakeBreaker{}}})
	for _, sm := range s.metrics(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "pacer.gate.limit" {
				t.Error("pacer.gate.limit observed without gates")
			}
		}
	}
}

// refusingRetry stands in for a retry layer whose budget refuses the retry
// of a 429: one attempt, then RetryRefused when the answer was a 429.
func refusingRetry(next http.RoundTripper) http.RoundTripper {
	return transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		req, rec := transport.EnsureRecord(req)
		rec.Update(func(f *transport.Facts) { f.Attempts = 1 })
		resp, err := next.RoundTrip(req)
		if err == nil && resp.StatusCode == http.StatusTooManyRequests {
			rec.Update(func(f *transport.Facts) { f.RetryRefused = true })
		}
		return resp, err
	})
}

// TestRetriesRefused: a request whose retry the budget refused counts once
// in pacer.retries.refused, with the gate key and priority; one that was
// not refused counts nothing.
func TestRetriesRefused(t *testing.T) {
	s := newSDK(t)
	api := newFakeAPI(t)
	api.fail.Store(1)
	tel := s.telemetry(Config{})
	rt := transport.Chain(nil, tel.Wrap, refusingRetry, keyGate{}.wrap, tel.WrapAttempt)
	for _, want := range []int{http.StatusTooManyRequests, http.StatusOK} {
		resp, err := rt.RoundTrip(newChatRequest(t, api.URL, `{"model":"m"}`))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("status %d, want %d", resp.StatusCode, want)
		}
	}
	m := findMetric(t, s.metrics(t), "pacer.retries.refused")
	if m.Unit != "{retry}" {
		t.Errorf("unit %q", m.Unit)
	}
	if got := sumBy(t, m, attrGateKey); len(got) != 1 || got[testKey] != 1 {
		t.Errorf("pacer.retries.refused by key %v, want 1 for %q", got, testKey)
	}
	if got := sumBy(t, m, attrPriority); got["interactive"] != 1 {
		t.Errorf("pacer.retries.refused by priority %v", got)
	}
}

// TestLongStreamInFiniteBucket: a stream read for two minutes, by the
// injected clock, falls in a bucket of both durations that ends at or
// above two minutes and is not the overflow bucket; both reach ten
// minutes, and the conventions' small buckets are kept.
func TestLongStreamInFiniteBucket(t *testing.T) {
	s := newSDK(t)
	api := newFakeAPI(t)
	tel := s.telemetry(Config{})
	advance := manualClock(tel)
	rt := transport.Chain(nil, tel.Wrap, tel.WrapAttempt)
	resp, err := rt.RoundTrip(newChatRequest(t, api.URL, `{"model":"m","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	advance(2 * time.Minute) // reading the stream
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()

	rm := s.metrics(t)
	for name, smallest := range map[string]float64{"http.client.request.duration": 0.005, "gen_ai.client.operation.duration": 0.01} {
		h, ok := findMetric(t, rm, name).Data.(metricdata.Histogram[float64])
		if !ok || len(h.DataPoints) != 1 {
			t.Fatalf("%s: %T with %d points", name, findMetric(t, rm, name).Data, len(h.DataPoints))
		}
		dp := h.DataPoints[0]
		if b := dp.Bounds; b[0] != smallest || b[len(b)-1] < 600 {
			t.Errorf("%s bounds %v, want from %v to at least 600", name, b, smallest)
		}
		in := -1
		for i, c := range dp.BucketCounts {
			if c == 1 {
				in = i
			}
		}
		if in < 0 || in == len(dp.Bounds) {
			t.Errorf("%s: two minutes in bucket %d of %v (overflow is %d)", name, in, dp.Bounds, len(dp.Bounds))
		} else if dp.Bounds[in] < 120 || (in > 0 && dp.Bounds[in-1] >= 120) {
			t.Errorf("%s: two minutes in the bucket ending at %v", name, dp.Bounds[in])
		}
	}
}
