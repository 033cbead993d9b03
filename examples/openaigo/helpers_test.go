package openaigo_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

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

// newClient returns an openai-go client for srv over hc, with the SDK's own
// retries off.
func newClient(srv *llmtest.Server, hc *http.Client) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(srv.URL()),
		option.WithAPIKey("sk-test"),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
	)
}

var chatParams = openai.ChatCompletionNewParams{
	Model:    "deepseek-chat",
	Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello there")},
}

// stream streams one answer and returns its content and the error that
// ended the stream (nil at its end).
func stream(ctx context.Context, c openai.Client) (string, error) {
	s := c.Chat.Completions.NewStreaming(ctx, chatParams)
	defer s.Close()
	var content string
	for s.Next() {
		for _, ch := range s.Current().Choices {
			content += ch.Delta.Content
		}
	}
	return content, s.Err()
}

// parallel runs call n times from callers goroutines and returns the errors.
func parallel(n, callers int, call func() error) []error { return calls.Parallel(n, callers, call) }
