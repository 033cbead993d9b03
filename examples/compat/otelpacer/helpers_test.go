package otelpacer_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/otelpacer"
)

// memSDK is an OpenTelemetry SDK kept in memory for one test: spans go to a
// recorder, metrics to a manual reader collected on demand.
type memSDK struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
}

func newMemSDK(t testing.TB) *memSDK {
	s := &memSDK{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	s.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(s.spans))
	s.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	t.Cleanup(func() {
		_ = s.tp.Shutdown(context.Background())
		_ = s.mp.Shutdown(context.Background())
	})
	return s
}

// telemetry returns an otelpacer.Telemetry reporting to s.
func (s *memSDK) telemetry(cfg otelpacer.Config) *otelpacer.Telemetry {
	cfg.TracerProvider, cfg.MeterProvider = s.tp, s.mp
	return otelpacer.New(cfg)
}

// metrics collects what the meter provider holds now.
func (s *memSDK) metrics(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// findMetric returns the named metric, or fails the test.
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

// sumBy returns an int64 counter's sums by the value of key.
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

// histSums returns an int64 or float64 histogram's sums by the value of key.
func histSums(t testing.TB, m metricdata.Metrics, key attribute.Key) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	switch h := m.Data.(type) {
	case metricdata.Histogram[int64]:
		for _, dp := range h.DataPoints {
			v, _ := dp.Attributes.Value(key)
			out[v.String()] += float64(dp.Sum)
		}
	case metricdata.Histogram[float64]:
		for _, dp := range h.DataPoints {
			v, _ := dp.Attributes.Value(key)
			out[v.String()] += dp.Sum
		}
	default:
		t.Fatalf("%s is %T, not a histogram", m.Name, m.Data)
	}
	return out
}

// attrSets returns the attribute sets of every data point of d.
func attrSets(d metricdata.Aggregation) []attribute.Set {
	var out []attribute.Set
	switch d := d.(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Sum[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Gauge[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Histogram[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	}
	return out
}

// spanAttr returns the value of key on s.
func spanAttr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// assertNoSecret fails the test if secret appears in any span name, status,
// attribute or event, or in any metric attribute.
func assertNoSecret(t *testing.T, s *memSDK, secret string) {
	t.Helper()
	check := func(where, v string) {
		if strings.Contains(v, secret) {
			t.Errorf("secret in %s: %q", where, v)
		}
	}
	for _, sp := range s.spans.Ended() {
		check("span name", sp.Name())
		check("span status", sp.Status().Description)
		for _, kv := range sp.Attributes() {
			check(string(kv.Key), kv.Value.String())
		}
		for _, ev := range sp.Events() {
			check("event", ev.Name)
			for _, kv := range ev.Attributes {
				check(string(kv.Key), kv.Value.String())
			}
		}
	}
	for _, sm := range s.metrics(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, set := range attrSets(m.Data) {
				for _, kv := range set.ToSlice() {
					check(m.Name+" "+string(kv.Key), kv.Value.String())
				}
			}
		}
	}
}

// splitSpans returns the one logical span ("chat …") and the attempt spans.
func splitSpans(t *testing.T, spans []sdktrace.ReadOnlySpan) (logical sdktrace.ReadOnlySpan, attempts []sdktrace.ReadOnlySpan) {
	t.Helper()
	for _, sp := range spans {
		if strings.HasPrefix(sp.Name(), "chat") {
			if logical != nil {
				t.Fatalf("two logical spans")
			}
			logical = sp
		} else {
			attempts = append(attempts, sp)
		}
	}
	if logical == nil {
		t.Fatal("no logical span")
	}
	return logical, attempts
}

const llmSecret = "sk-llmtest-SECRET-42"

// llmClient returns an openai-go client over rt for srv, sending llmSecret
// as its API key, with the SDK's own retries off.
func llmClient(srv *llmtest.Server, rt http.RoundTripper) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(srv.URL()+"/"),
		option.WithAPIKey(llmSecret),
		option.WithMaxRetries(0),
		option.WithHTTPClient(&http.Client{Transport: rt}),
	)
}

func chatParams() openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    "deepseek-chat",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello there world")},
	}
}
