package keepalive_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	openaigo "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

// minKeepAlives is how many keep-alive comments the SDK tests require before
// the first chunk: well past go-openai's limit of 300 empty lines.
const minKeepAlives = 1000

// waitConfig makes every scripted wait last long enough for minKeepAlives.
func waitConfig() llmtest.Config {
	return llmtest.Config{Wait: llmtest.Wait{Duration: 100 * time.Millisecond, Interval: 10 * time.Microsecond}}
}

// newLLM starts an llmtest server, closed at cleanup.
func newLLM(t *testing.T, cfg llmtest.Config) *llmtest.Server {
	t.Helper()
	s := llmtest.NewServer(cfg)
	t.Cleanup(s.Close)
	return s
}

// keepAliveCounter counts, in the raw bodies under the filter, the ':' bytes
// before the first 'd' (of "data:"): one per ": keep-alive" comment.
type keepAliveCounter struct {
	base  http.RoundTripper
	count atomic.Int64
}

func (c *keepAliveCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err == nil {
		resp.Body = &countingReader{ReadCloser: resp.Body, c: &c.count}
	}
	return resp, err
}

type countingReader struct {
	io.ReadCloser
	c    *atomic.Int64
	data bool
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	for _, b := range p[:n] {
		if r.data {
			break
		}
		switch b {
		case ':':
			r.c.Add(1)
		case 'd':
			r.data = true
		}
	}
	return n, err
}

func goOpenAIClient(s *llmtest.Server, rt http.RoundTripper) *goopenai.Client {
	cfg := goopenai.DefaultConfig("test-key")
	cfg.BaseURL = s.URL()
	cfg.HTTPClient = &http.Client{Transport: rt}
	return goopenai.NewClientWithConfig(cfg)
}

func TestGoOpenAIStreamWithKeepAlives(t *testing.T) {
	s := newLLM(t, waitConfig())
	base := &http.Transport{}
	defer base.CloseIdleConnections()

	t.Run("with filter", func(t *testing.T) {
		counter := &keepAliveCounter{base: base}
		s.Script(llmtest.WaitThenAnswer)
		content, err := goOpenAIStream(context.Background(), goOpenAIClient(s, keepalive.New(keepalive.Config{}).Wrap(counter)))
		if err != nil {
			t.Fatalf("stream through the filter: %v", err)
		}
		if content == "" {
			t.Fatal("no content streamed")
		}
		n := counter.count.Load()
		if n < minKeepAlives {
			t.Fatalf("server sent %d keep-alives, want >= %d", n, minKeepAlives)
		}
		t.Logf("%d keep-alives before the first chunk", n)
	})
	t.Run("without filter", func(t *testing.T) {
		counter := &keepAliveCounter{base: base}
		s.Script(llmtest.WaitThenAnswer)
		_, err := goOpenAIStream(context.Background(), goOpenAIClient(s, counter))
		if !errors.Is(err, goopenai.ErrTooManyEmptyStreamMessages) {
			t.Fatalf("err = %v, want go-openai's ErrTooManyEmptyStreamMessages", err)
		}
	})
}

func openaiGoClient(s *llmtest.Server, rt http.RoundTripper) openaigo.Client {
	return openaigo.NewClient(
		option.WithBaseURL(s.URL()),
		option.WithAPIKey("test-key"),
		option.WithHTTPClient(&http.Client{Transport: rt}),
		option.WithMaxRetries(0),
	)
}

func TestOpenAIGoWithKeepAlives(t *testing.T) {
	s := newLLM(t, waitConfig())
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	f := keepalive.New(keepalive.Config{})

	t.Run("streaming", func(t *testing.T) {
		counter := &keepAliveCounter{base: base}
		s.Script(llmtest.WaitThenAnswer)
		c := openaiGoClient(s, f.Wrap(counter))
		stream := c.Chat.Completions.NewStreaming(context.Background(), openaiGoParams)
		defer stream.Close()
		var content string
		for stream.Next() {
			if ch := stream.Current(); len(ch.Choices) > 0 {
				content += ch.Choices[0].Delta.Content
			}
		}
		if err := stream.Err(); err != nil || content == "" {
			t.Fatalf("stream = %q, %v", content, err)
		}
		n := counter.count.Load()
		if n < minKeepAlives {
			t.Fatalf("server sent %d keep-alives, want >= %d", n, minKeepAlives)
		}
		t.Logf("%d keep-alives before the first chunk", n)
	})
	t.Run("non-streaming", func(t *testing.T) {
		s.Script(llmtest.WaitThenAnswer)
		rec := new(transport.Record)
		c := openaiGoClient(s, f.Wrap(base))
		resp, err := c.Chat.Completions.New(transport.ContextWithRecord(context.Background(), rec), openaiGoParams)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Choices) == 0 || resp.Choices[0].Message.Content == "" {
			t.Fatalf("answer = %+v", resp)
		}
		if rec.Facts().ScheduleWait <= 0 {
			t.Fatal("ScheduleWait not recorded")
		}
	})
}

func TestLLMTestClosedWhileWaiting(t *testing.T) {
	for _, stream := range []bool{false, true} {
		s := newLLM(t, llmtest.Config{Wait: llmtest.Wait{Max: 20 * time.Millisecond, Interval: time.Millisecond}})
		base := &http.Transport{}
		s.Script(llmtest.WaitThenClose)
		c := openaiGoClient(s, keepalive.New(keepalive.Config{}).Wrap(base))
		var err error
		if stream {
			st := c.Chat.Completions.NewStreaming(context.Background(), openaiGoParams)
			for st.Next() {
			}
			err = st.Err()
			st.Close()
		} else {
			_, err = c.Chat.Completions.New(context.Background(), openaiGoParams)
		}
		base.CloseIdleConnections()
		if !errors.Is(err, keepalive.ErrClosedWhileWaiting) || !errors.Is(err, transport.ErrNoResponse) {
			t.Fatalf("stream=%v: err = %v, want ErrClosedWhileWaiting", stream, err)
		}
		if n := s.Stats().ClosedWhileWaiting; n != 1 {
			t.Fatalf("server closed %d waits, want 1", n)
		}
	}
}

// TestRetryAfterClosedWhileWaitingLLMTest: with the retry layer in front of
// the filter, a request the server gives up on while it waits succeeds on
// the next attempt, and the SDK never sees the failed one.
func TestRetryAfterClosedWhileWaitingLLMTest(t *testing.T) {
	s := newLLM(t, llmtest.Config{Wait: llmtest.Wait{Max: 20 * time.Millisecond, Interval: time.Millisecond}})
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	s.Script(llmtest.WaitThenClose)
	rt := transport.Chain(base,
		retry.New(retry.Config{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}).Wrap,
		keepalive.New(keepalive.Config{}).Wrap,
	)
	content, err := goOpenAIStream(context.Background(), goOpenAIClient(s, rt))
	if err != nil || content == "" {
		t.Fatalf("stream = %q, %v", content, err)
	}
	st := s.Stats()
	if st.ClosedWhileWaiting != 1 || st.Requests != 2 {
		t.Fatalf("server stats = %+v, want two requests, one closed while waiting", st)
	}
}
