package otelpacer_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/otelpacer"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

// With llmtest and a real SDK: a request rate-limited twice and retried
// by the retry layer gives one logical span and three attempt spans with resend counts absent,
// 1 and 2, and the JSON usage on the logical span.
func TestLLMTestRetriedTwiceJSONUsage(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{})
	defer srv.Close()
	s := newMemSDK(t)
	tel := s.telemetry(otelpacer.Config{})
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	rt := transport.Chain(base, tel.Wrap,
		retry.New(retry.Config{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}).Wrap,
		tel.WrapAttempt)
	srv.Script(llmtest.RateLimit, llmtest.RateLimit)

	client := llmClient(srv, rt)
	cc, err := client.Chat.Completions.New(context.Background(), chatParams())
	if err != nil {
		t.Fatal(err)
	}
	logical, attempts := splitSpans(t, s.spans.Ended())
	if len(attempts) != 3 {
		t.Fatalf("%d attempt spans, want 3", len(attempts))
	}
	for i, sp := range attempts {
		v, ok := spanAttr(sp, "http.request.resend_count")
		if (i == 0) == ok || (ok && v.AsInt64() != int64(i)) {
			t.Errorf("attempt %d: resend_count %s (present %v)", i+1, v.String(), ok)
		}
		if sp.Parent().SpanID() != logical.SpanContext().SpanID() {
			t.Errorf("attempt %d is not a child of the logical span", i+1)
		}
	}
	want := map[attribute.Key]any{
		"gen_ai.request.model":       "deepseek-chat",
		"gen_ai.response.model":      "deepseek-chat",
		"gen_ai.usage.input_tokens":  cc.Usage.PromptTokens,
		"gen_ai.usage.output_tokens": cc.Usage.CompletionTokens,
		"pacer.attempts":             int64(3),
	}
	for k, w := range want {
		if v, ok := spanAttr(logical, k); !ok || v.AsInterface() != w {
			t.Errorf("%s = %v (present %v), want %v", k, v.AsInterface(), ok, w)
		}
	}
	if cc.Usage.PromptTokens == 0 {
		t.Error("llmtest sent no usage")
	}
	if got := sumBy(t, findMetric(t, s.metrics(t), "pacer.attempts"), "pacer.outcome"); got["rate_limited"] != 2 || got["ok"] != 1 {
		t.Errorf("pacer.attempts %v", got)
	}
	assertNoSecret(t, s, llmSecret)
}

// A stream with include_usage: the logical span ends only once the SDK has
// read the stream to its end, and carries the final chunk's usage.
func TestLLMTestStreamUsage(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{StreamChunks: 6})
	defer srv.Close()
	s := newMemSDK(t)
	tel := s.telemetry(otelpacer.Config{})
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	rt := transport.Chain(base, tel.Wrap, tel.WrapAttempt)

	client := llmClient(srv, rt)
	p := chatParams()
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	var usage openai.CompletionUsage
	chunks := 0
	for stream.Next() {
		if chunks == 0 && len(s.spans.Ended()) != 0 {
			t.Error("a span ended at the first chunk")
		}
		chunks++
		if c := stream.Current(); c.Usage.TotalTokens > 0 {
			usage = c.Usage
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	_ = stream.Close()
	if usage.TotalTokens == 0 {
		t.Fatal("no usage chunk")
	}
	logical, attempts := splitSpans(t, s.spans.Ended())
	if len(attempts) != 1 {
		t.Fatalf("%d attempt spans", len(attempts))
	}
	for k, w := range map[attribute.Key]any{
		"gen_ai.request.stream":      true,
		"gen_ai.usage.input_tokens":  usage.PromptTokens,
		"gen_ai.usage.output_tokens": usage.CompletionTokens,
		"gen_ai.response.model":      "deepseek-chat",
	} {
		if v, ok := spanAttr(logical, k); !ok || v.AsInterface() != w {
			t.Errorf("%s = %v (present %v), want %v", k, v.AsInterface(), ok, w)
		}
	}
	if sum := histSums(t, findMetric(t, s.metrics(t), "gen_ai.client.token.usage"), "gen_ai.token.type"); sum["input"] != float64(usage.PromptTokens) || sum["output"] != float64(usage.CompletionTokens) {
		t.Errorf("token usage %v", sum)
	}
	assertNoSecret(t, s, llmSecret)
}

// A stream the caller stops reading: the span ends at Close.
func TestLLMTestStreamClosedEarly(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{StreamChunks: 50})
	defer srv.Close()
	s := newMemSDK(t)
	tel := s.telemetry(otelpacer.Config{})
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	rt := transport.Chain(base, tel.Wrap, tel.WrapAttempt)
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/chat/completions",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	_, _ = io.ReadFull(resp.Body, buf)
	if n := len(s.spans.Ended()); n != 0 {
		t.Fatalf("%d spans ended mid-stream", n)
	}
	_ = resp.Body.Close()
	if n := len(s.spans.Ended()); n != 2 {
		t.Fatalf("%d spans ended at Close, want 2", n)
	}
}

// Keep-alive bytes sent while the server waits to schedule the request
// (blank lines before the JSON, ": keep-alive" comments in a stream) do not
// hide the usage, even with no keepalive layer to remove them.
func TestLLMTestUsageAfterKeepAlives(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{Wait: llmtest.Wait{Duration: 30 * time.Millisecond, Interval: 2 * time.Millisecond}})
	defer srv.Close()
	s := newMemSDK(t)
	tel := s.telemetry(otelpacer.Config{})
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	rt := transport.Chain(base, tel.Wrap, tel.WrapAttempt)
	client := llmClient(srv, rt)

	srv.Script(llmtest.WaitThenAnswer)
	cc, err := client.Chat.Completions.New(context.Background(), chatParams())
	if err != nil {
		t.Fatal(err)
	}
	srv.Script(llmtest.WaitThenAnswer)
	p := chatParams()
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	_ = stream.Close()

	var logical []sdktrace.ReadOnlySpan
	for _, sp := range s.spans.Ended() {
		if strings.HasPrefix(sp.Name(), "chat") {
			logical = append(logical, sp)
		}
	}
	if len(logical) != 2 {
		t.Fatalf("%d logical spans", len(logical))
	}
	for _, sp := range logical {
		if v, ok := spanAttr(sp, "gen_ai.usage.input_tokens"); !ok || v.AsInt64() != cc.Usage.PromptTokens {
			t.Errorf("input tokens %s (present %v), want %d", v.String(), ok, cc.Usage.PromptTokens)
		}
	}
}
