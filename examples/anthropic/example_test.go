package anthropic_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/llmtest"
)

// The recommended stack under anthropic-sdk-go: pass its client with
// option.WithHTTPClient and turn the SDK's own retries off, so that pacer's
// retry layer, within its budget and under the gate, is the only one.
func Example() {
	srv := llmtest.NewServer(llmtest.Config{Provider: llmtest.Anthropic})
	defer srv.Close()
	stack := pacer.New(pacer.Config{})
	defer stack.Close()

	client := anthropic.NewClient(
		option.WithBaseURL(strings.TrimSuffix(srv.URL(), "v1")), // https://api.anthropic.com/ in production
		option.WithAPIKey("sk-ant-test"),
		option.WithHTTPClient(stack.Client()),
		option.WithMaxRetries(0),
	)
	msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 256,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Say hello."))},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msg.Content[0].Text)
	// Output: Hello from the fake.
}

// Streaming works the same way; pings and keep-alives never reach the
// accumulated text.
func Example_streaming() {
	srv := llmtest.NewServer(llmtest.Config{Provider: llmtest.Anthropic})
	defer srv.Close()
	stack := pacer.New(pacer.Config{})
	defer stack.Close()

	client := anthropic.NewClient(
		option.WithBaseURL(strings.TrimSuffix(srv.URL(), "v1")),
		option.WithAPIKey("sk-ant-test"),
		option.WithHTTPClient(stack.Client()),
		option.WithMaxRetries(0),
	)
	s := client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 256,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Say hello."))},
	})
	defer s.Close()
	var msg anthropic.Message
	for s.Next() {
		if err := msg.Accumulate(s.Current()); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := s.Err(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msg.Content[0].Text)
	// Output: Hello from the fake.
}
