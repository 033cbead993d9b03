package otelpacer_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/pacerhttp/pacer/otelpacer"
	"github.com/pacerhttp/pacer/transport"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A chat completion through both layers gives a logical "chat {model}" span
// with token usage and, as its child, one HTTP span for the attempt. The
// attempt's span ends first: its body is done just before the caller's.
func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"model":"deepseek-chat","choices":[{"message":{"content":"Hi!"}}],"usage":{"prompt_tokens":9,"completion_tokens":3}}`)
	}))
	defer api.Close()

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())

	tel := otelpacer.New(otelpacer.Config{TracerProvider: tp, ProviderName: "deepseek"})
	client := &http.Client{Transport: transport.Chain(nil, tel.Wrap, tel.WrapAttempt)}
	defer client.CloseIdleConnections()

	resp, err := client.Post(api.URL+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"Hello"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	for _, s := range spans.Ended() {
		fmt.Println(s.Name())
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case "gen_ai.provider.name", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "http.response.status_code":
				fmt.Printf("  %s=%s\n", kv.Key, kv.Value.String())
			}
		}
	}
	// Output:
	// POST
	//   http.response.status_code=200
	// chat deepseek-chat
	//   gen_ai.provider.name=deepseek
	//   http.response.status_code=200
	//   gen_ai.usage.input_tokens=9
	//   gen_ai.usage.output_tokens=3
}

// ProviderName derives gen_ai.provider.name from the host when
// Config.ProviderName is empty.
func ExampleProviderName() {
	fmt.Println(otelpacer.ProviderName("api.deepseek.com"))
	fmt.Println(otelpacer.ProviderName("api.openai.com:443"))
	fmt.Println(otelpacer.ProviderName("api.together.xyz"))
	fmt.Println(otelpacer.ProviderName("127.0.0.1:8080"))
	// Output:
	// deepseek
	// openai
	// together
	// openai-compatible
}

// gate stands in for a concurrency gate: anything with EachKey can feed the
// gate gauges.
type gate struct{}

func (gate) EachKey(fn func(key string, limit, inFlight, queued int)) {
	fn("api.deepseek.com", 8, 5, 2)
}

// The gauges pacer.gate.limit, pacer.gate.in_flight and pacer.gate.queued
// are read from the gates at each collection.
func ExampleConfig_gates() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	tel := otelpacer.New(otelpacer.Config{MeterProvider: mp, Gates: []otelpacer.GateStats{gate{}}})
	defer tel.Close()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[int64]); ok {
				for _, dp := range g.DataPoints {
					key, _ := dp.Attributes.Value("pacer.gate.key")
					fmt.Printf("%s{%s} %d\n", m.Name, key.AsString(), dp.Value)
				}
			}
		}
	}
	// Output:
	// pacer.gate.limit{api.deepseek.com} 8
	// pacer.gate.in_flight{api.deepseek.com} 5
	// pacer.gate.queued{api.deepseek.com} 2
}
