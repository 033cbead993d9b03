package goopenai_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/llmtest"
)

// go-openai takes the client through ClientConfig.HTTPClient. It has no
// retries of its own, so nothing needs turning off: the 429 below is retried
// by pacer, and the SDK sees the answer.
func Example_chat() {
	srv := llmtest.NewServer(llmtest.Config{RetryAfter: llmtest.RetryAfterMillis, RetryAfterDelay: time.Millisecond})
	defer srv.Close()
	srv.Script(llmtest.RateLimit)

	cfg := openai.DefaultConfig("sk-example")
	cfg.BaseURL = srv.URL()
	cfg.HTTPClient = pacer.NewClient(pacer.Config{})
	client := openai.NewClientWithConfig(cfg)

	resp, err := client.CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{
		Model:    "deepseek-chat",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Hello"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Model, resp.Choices[0].FinishReason, resp.Usage.TotalTokens > 0)
	fmt.Println("429s absorbed:", srv.Stats().RateLimited)
	// Output:
	// deepseek-chat stop true
	// 429s absorbed: 1
}

// A go-openai stream that waits to be scheduled: the fake API sends a
// thousand ": keep-alive" comments before the first chunk, as DeepSeek does
// while a request waits. Alone, go-openai gives up after 300 such lines
// (ErrTooManyEmptyStreamMessages); through pacer it never sees them.
func Example_stream() {
	srv := llmtest.NewServer(llmtest.Config{
		Wait: llmtest.Wait{Share: 1, Duration: 50 * time.Millisecond, Interval: 50 * time.Microsecond},
	})
	defer srv.Close()

	cfg := openai.DefaultConfig("sk-example")
	cfg.BaseURL = srv.URL()
	cfg.HTTPClient = pacer.NewClient(pacer.Config{})
	client := openai.NewClientWithConfig(cfg)

	stream, err := client.CreateChatCompletionStream(context.Background(), openai.ChatCompletionRequest{
		Model:    "deepseek-chat",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Hello"}},
		Stream:   true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stream.Close()
	var content string
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, c := range chunk.Choices {
			content += c.Delta.Content
		}
	}
	fmt.Println(content == srv.Answer())
	// Output: true
}

// What pacer does not retry reaches go-openai as it would without pacer: a
// 402 (insufficient balance) after one attempt, as go-openai's *APIError.
func Example_apiError() {
	srv := llmtest.NewServer(llmtest.Config{})
	defer srv.Close()
	srv.Script(llmtest.PaymentRequired)

	cfg := openai.DefaultConfig("sk-example")
	cfg.BaseURL = srv.URL()
	cfg.HTTPClient = pacer.NewClient(pacer.Config{})
	client := openai.NewClientWithConfig(cfg)

	_, err := client.CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{
		Model:    "deepseek-chat",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Hello"}},
	})
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.HTTPStatusCode, apiErr.Code, "after", srv.Stats().Requests, "attempt")
	}
	// Output: 402 insufficient_balance after 1 attempt
}
