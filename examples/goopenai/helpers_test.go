package goopenai_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/examples/internal/calls"
	"github.com/pacerhttp/pacer/llmtest"
)

// newServer starts an llmtest server, closed at cleanup.
func newServer(t *testing.T, cfg llmtest.Config) *llmtest.Server {
	t.Helper()
	s := llmtest.NewServer(cfg)
	t.Cleanup(s.Close)
	return s
}

// newStack builds the recommended stack, its idle connections closed at
// cleanup so that goleak sees none of them.
func newStack(t *testing.T, cfg pacer.Config) *pacer.Stack {
	t.Helper()
	st := pacer.New(cfg)
	t.Cleanup(st.CloseIdleConnections)
	return st
}

// newClient returns a go-openai client for srv over hc.
func newClient(srv *llmtest.Server, hc *http.Client) *openai.Client {
	cfg := openai.DefaultConfig("sk-test")
	cfg.BaseURL = srv.URL()
	cfg.HTTPClient = hc
	return openai.NewClientWithConfig(cfg)
}

var chatRequest = openai.ChatCompletionRequest{
	Model:    "deepseek-chat",
	Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "hello there"}},
}

// stream streams one answer and returns its content and the error that
// ended the stream (nil at its end).
func stream(ctx context.Context, c *openai.Client) (string, error) {
	req := chatRequest
	req.Stream = true
	s, err := c.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return "", err
	}
	defer s.Close()
	var content string
	for {
		chunk, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return content, nil
		}
		if err != nil {
			return content, err
		}
		for _, ch := range chunk.Choices {
			content += ch.Delta.Content
		}
	}
}

// parallel runs call n times from callers goroutines and returns the errors.
func parallel(n, callers int, call func() error) []error { return calls.Parallel(n, callers, call) }
