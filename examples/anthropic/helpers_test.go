package anthropic_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/examples/internal/calls"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/retry"
)

// fastRetry is the retry layer's default policy with millisecond backoff,
// so that a storm fits in a test.
var fastRetry = retry.Config{BaseDelay: 2 * time.Millisecond, MaxDelay: 10 * time.Millisecond}

// newServer starts an llmtest server speaking Anthropic's API, closed at
// cleanup.
func newServer(t *testing.T, cfg llmtest.Config) *llmtest.Server {
	t.Helper()
	cfg.Provider = llmtest.Anthropic
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

// newClient returns an anthropic-sdk-go client for srv over hc, with the
// SDK's own retries off.
func newClient(srv *llmtest.Server, hc *http.Client, key string) anthropic.Client {
	return anthropic.NewClient(
		option.WithBaseURL(strings.TrimSuffix(srv.URL(), "v1")),
		option.WithAPIKey(key),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
	)
}

var params = anthropic.MessageNewParams{
	Model:     "claude-sonnet-4-5",
	MaxTokens: 256,
	Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello there"))},
}

// stream streams one answer and returns its text and the error that ended
// the stream (nil at its end).
func stream(ctx context.Context, c anthropic.Client) (string, error) {
	s := c.Messages.NewStreaming(ctx, params)
	defer s.Close()
	var b strings.Builder
	for s.Next() {
		ev := s.Current()
		if d, ok := ev.AsAny().(anthropic.ContentBlockDeltaEvent); ok {
			b.WriteString(d.Delta.Text)
		}
	}
	return b.String(), s.Err()
}

// parallel runs call n times from callers goroutines and returns the errors.
func parallel(n, callers int, call func() error) []error { return calls.Parallel(n, callers, call) }
