package telemetry_test

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/otelpacer"
)

// Pass a TracerProvider (and a MeterProvider) in pacer.Config.Telemetry. A
// request retried once gives one span for the logical request and one per
// attempt, the second with http.request.resend_count 1. The spans end with
// the response body.
func Example_spans() {
	srv := llmtest.NewServer(llmtest.Config{RetryAfter: llmtest.RetryAfterMillis, RetryAfterDelay: time.Millisecond})
	defer srv.Close()
	srv.Script(llmtest.RateLimit)

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())
	client := pacer.NewClient(pacer.Config{Telemetry: otelpacer.Config{TracerProvider: tp}})

	resp, err := client.Post(srv.URL()+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"Hello"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	ended := spans.Ended()
	sort.Slice(ended, func(i, j int) bool { return ended[i].StartTime().Before(ended[j].StartTime()) })
	for _, s := range ended {
		line := s.Name()
		for _, a := range s.Attributes() {
			switch a.Key {
			case "http.response.status_code", "http.request.resend_count", "gen_ai.usage.output_tokens":
				line += fmt.Sprintf(" %s=%s", a.Key, a.Value.String())
			}
		}
		fmt.Println(line)
	}
	// Output:
	// chat deepseek-chat http.response.status_code=200 gen_ai.usage.output_tokens=4
	// POST http.response.status_code=429
	// POST http.request.resend_count=1 http.response.status_code=200
}
