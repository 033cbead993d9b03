package llmtest_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/pacerhttp/pacer/llmtest"
)

func TestGoOpenAI(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{Wait: llmtest.Wait{Share: 0.5, Duration: 5e6, Interval: 1e6}})
	defer s.Close()
	cfg := goopenai.DefaultConfig("key")
	cfg.BaseURL = s.URL()
	cfg.HTTPClient = s.Client()
	c := goopenai.NewClientWithConfig(cfg)
	ctx := context.Background()
	req := goopenai.ChatCompletionRequest{
		Model:    "deepseek-chat",
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "hello there"}},
	}
	for range 4 { // half of them wait with keep-alives
		resp, err := c.CreateChatCompletion(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Choices[0].Message.Content != s.Answer() || resp.Model != "deepseek-chat" ||
			resp.Usage.PromptTokens != 2 || resp.Usage.CompletionTokens != 4 || resp.Usage.TotalTokens != 6 {
			t.Errorf("response %+v", resp)
		}
	}

	req.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
	for range 4 {
		stream, err := c.CreateChatCompletionStream(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		var content string
		var usage *goopenai.Usage
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range chunk.Choices {
				content += ch.Delta.Content
			}
			if chunk.Usage != nil {
				usage = chunk.Usage
			}
		}
		stream.Close()
		if content != s.Answer() || usage == nil || usage.TotalTokens != 6 {
			t.Errorf("stream content %q, usage %+v", content, usage)
		}
	}

	s.Script(llmtest.RateLimit)
	_, err := c.CreateChatCompletion(ctx, req)
	var apiErr *goopenai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 429 || apiErr.Code != "rate_limit_exceeded" {
		t.Errorf("429: %v", err)
	}
}

func TestOpenAIGo(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{Wait: llmtest.Wait{Share: 0.5, Duration: 5e6, Interval: 1e6}})
	defer s.Close()
	c := openai.NewClient(
		option.WithBaseURL(s.URL()),
		option.WithAPIKey("key"),
		option.WithMaxRetries(0),
		option.WithHTTPClient(s.Client()),
	)
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:    "deepseek-chat",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello there")},
	}
	for range 4 {
		resp, err := c.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Choices[0].Message.Content != s.Answer() || resp.Model != "deepseek-chat" ||
			resp.Usage.PromptTokens != 2 || resp.Usage.CompletionTokens != 4 || resp.Usage.TotalTokens != 6 {
			t.Errorf("response %+v", resp)
		}
	}

	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	for range 4 {
		stream := c.Chat.Completions.NewStreaming(ctx, params)
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		stream.Close()
		if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != s.Answer() || acc.Usage.TotalTokens != 6 {
			t.Errorf("stream %+v", acc.ChatCompletion)
		}
	}

	s.Script(llmtest.Overload)
	_, err := c.Chat.Completions.New(ctx, params)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.Code != "server_overloaded" {
		t.Errorf("503: %v", err)
	}
}
