package pacer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	goopenai "github.com/sashabaranov/go-openai"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/otelpacer"
	"github.com/pacerhttp/pacer/transport"
)

// A plain http.Client: the fake API answers the first two attempts with 429
// (and a Retry-After of a millisecond); the caller sees one answer.
func ExampleNewClient() {
	srv := llmtest.NewServer(llmtest.Config{RetryAfter: llmtest.RetryAfterMillis, RetryAfterDelay: time.Millisecond})
	defer srv.Close()
	srv.Script(llmtest.RateLimit, llmtest.RateLimit)

	client := pacer.NewClient(pacer.Config{})
	resp, err := client.Post(srv.URL()+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"Hello"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var answer struct {
		Model   string `json:"model"`
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, answer.Model, answer.Choices[0].FinishReason)
	fmt.Println("429s absorbed:", srv.Stats().RateLimited)
	// Output:
	// 200 deepseek-chat stop
	// 429s absorbed: 2
}

// go-openai takes the client through ClientConfig.HTTPClient. go-openai has
// no retries of its own, so nothing needs turning off.
func ExampleNewClient_goOpenAI() {
	srv := llmtest.NewServer(llmtest.Config{RetryAfter: llmtest.RetryAfterMillis, RetryAfterDelay: time.Millisecond})
	defer srv.Close()
	srv.Script(llmtest.RateLimit)

	cfg := goopenai.DefaultConfig("sk-example")
	cfg.BaseURL = srv.URL()
	cfg.HTTPClient = pacer.NewClient(pacer.Config{})
	client := goopenai.NewClientWithConfig(cfg)

	resp, err := client.CreateChatCompletion(context.Background(), goopenai.ChatCompletionRequest{
		Model:    "deepseek-chat",
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Hello"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Model, resp.Choices[0].FinishReason, resp.Usage.TotalTokens > 0)
	// Output: deepseek-chat stop true
}

// A go-openai stream that waits to be scheduled: the fake API sends a
// thousand ": keep-alive" comments before the first chunk, as DeepSeek does
// while a request waits. Alone, go-openai gives up after 300 such lines
// (ErrTooManyEmptyStreamMessages); through pacer it never sees them.
func ExampleNewClient_goOpenAIStream() {
	srv := llmtest.NewServer(llmtest.Config{
		Wait: llmtest.Wait{Share: 1, Duration: 50 * time.Millisecond, Interval: 50 * time.Microsecond},
	})
	defer srv.Close()

	cfg := goopenai.DefaultConfig("sk-example")
	cfg.BaseURL = srv.URL()
	cfg.HTTPClient = pacer.NewClient(pacer.Config{})
	client := goopenai.NewClientWithConfig(cfg)

	stream, err := client.CreateChatCompletionStream(context.Background(), goopenai.ChatCompletionRequest{
		Model:    "deepseek-chat",
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Hello"}},
		Stream:   true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stream.Close()
	chunks := 0
	for {
		_, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		chunks++
	}
	fmt.Println("chunks:", chunks)
	// Output: chunks: 5
}

// openai-go takes the client through option.WithHTTPClient. Turn its own
// retries off with option.WithMaxRetries(0): they would sit above pacer,
// where every SDK retry would start pacer's retries anew (up to 3 × 4
// attempts per call) outside the retry budget. pacer retries what is worth
// retrying, paced by the gate, and when it gives up returns the last real
// 429 or 503, so the SDK still reports its own typed error.
func ExampleNewClient_openaiGo() {
	srv := llmtest.NewServer(llmtest.Config{RetryAfter: llmtest.RetryAfterMillis, RetryAfterDelay: time.Millisecond})
	defer srv.Close()
	srv.Script(llmtest.Overload)

	client := openai.NewClient(
		option.WithBaseURL(srv.URL()),
		option.WithAPIKey("sk-example"),
		option.WithHTTPClient(pacer.NewClient(pacer.Config{})),
		option.WithMaxRetries(0),
	)
	completion, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "deepseek-chat",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(completion.Model, completion.Choices[0].FinishReason)
	fmt.Println("503s absorbed:", srv.Stats().Overloaded)
	// Output:
	// deepseek-chat stop
	// 503s absorbed: 1
}

// Priorities: when the gate is full, a waiting Interactive request goes
// before Background ones that queued earlier. Here the gate is fixed at one
// request in flight; a first request holds it while a background and then an
// interactive request queue.
func ExampleNewStack_priority() {
	srv := llmtest.NewServer(llmtest.Config{RecordRequests: true})
	defer srv.Close()
	st := pacer.NewStack(pacer.Config{Gate: concurrency.Config{Limit: 1}})
	client := st.Client()
	send := func(ctx context.Context, prompt string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/chat/completions",
			strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"`+prompt+`"}]}`))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	}
	queued := func(n int) {
		for st.Gate.Stats().Queued < n {
			time.Sleep(time.Millisecond)
		}
	}

	// The first request holds the gate's only permit until its body is read.
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/chat/completions",
		strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"first"}]}`))
	first, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 2)
	go func() { done <- send(transport.WithPriority(context.Background(), transport.Background), "background") }()
	queued(1)
	go func() { done <- send(context.Background(), "interactive") }()
	queued(2)
	io.Copy(io.Discard, first.Body)
	first.Body.Close()
	for range 2 {
		if err := <-done; err != nil {
			fmt.Println(err)
		}
	}

	for _, r := range srv.Requests() {
		var body struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		json.Unmarshal(r.Body, &body)
		fmt.Println(body.Messages[0].Content)
	}
	// Output:
	// first
	// interactive
	// background
}

// Telemetry: pass a TracerProvider (and a MeterProvider) in Config.Telemetry.
// A request retried once gives one span for the logical request and one per
// attempt, the second with http.request.resend_count 1.
func ExampleConfig_telemetry() {
	srv := llmtest.NewServer(llmtest.Config{RetryAfter: llmtest.RetryAfterMillis, RetryAfterDelay: time.Millisecond})
	defer srv.Close()
	srv.Script(llmtest.RateLimit)

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	client := pacer.NewClient(pacer.Config{Telemetry: otelpacer.Config{TracerProvider: tp}})

	resp, err := client.Post(srv.URL()+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"Hello"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close() // spans end with the body

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

// Leaving layers out: Without takes a set of layers.
func ExampleConfig_without() {
	st := pacer.NewStack(pacer.Config{Without: pacer.LayerBreaker | pacer.LayerTelemetry})
	fmt.Println("left out:", pacer.LayerBreaker|pacer.LayerTelemetry)
	fmt.Println("breaker:", st.Breaker != nil, "telemetry:", st.Telemetry != nil, "gate:", st.Gate != nil)
	// Output:
	// left out: telemetry|breaker
	// breaker: false telemetry: false gate: true
}
