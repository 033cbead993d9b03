package openaigo_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/llmtest"
)

// openai-go takes the client through option.WithHTTPClient. Turn its own
// retries off with option.WithMaxRetries(0): they would sit above pacer,
// where every SDK retry would start pacer's retries anew (up to 3 × 4
// attempts per call) outside the retry budget. pacer retries what is worth
// retrying, paced by the gate, and when it gives up returns the last real
// 429 or 503, so the SDK still reports its own typed error.
func Example_chat() {
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

// A stream that waits to be scheduled, with a thousand ": keep-alive"
// comments before its first chunk: openai-go reads the chunks, and the
// accumulator the usage of the final chunk.
func Example_stream() {
	srv := llmtest.NewServer(llmtest.Config{
		Wait: llmtest.Wait{Share: 1, Duration: 50 * time.Millisecond, Interval: 50 * time.Microsecond},
	})
	defer srv.Close()

	client := openai.NewClient(
		option.WithBaseURL(srv.URL()),
		option.WithAPIKey("sk-example"),
		option.WithHTTPClient(pacer.NewClient(pacer.Config{})),
		option.WithMaxRetries(0),
	)
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:         "deepseek-chat",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(acc.Choices[0].Message.Content == srv.Answer(), acc.Usage.CompletionTokens)
	// Output: true 4
}

// What pacer does not retry reaches openai-go as it would without pacer: a
// 402 (insufficient balance) after one attempt, as openai-go's *openai.Error.
func Example_apiError() {
	srv := llmtest.NewServer(llmtest.Config{})
	defer srv.Close()
	srv.Script(llmtest.PaymentRequired)

	client := openai.NewClient(
		option.WithBaseURL(srv.URL()),
		option.WithAPIKey("sk-example"),
		option.WithHTTPClient(pacer.NewClient(pacer.Config{})),
		option.WithMaxRetries(0),
	)
	_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "deepseek-chat",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
	})
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, "after", srv.Stats().Requests, "attempt")
	}
	// Output: 402 insufficient_balance after 1 attempt
}
