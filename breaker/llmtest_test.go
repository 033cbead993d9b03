package breaker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/transport"
)

func newLLM(t *testing.T, cfg llmtest.Config) *llmtest.Server {
	t.Helper()
	s := llmtest.NewServer(cfg)
	t.Cleanup(s.Close)
	return s
}

func llmKey(t *testing.T, s *llmtest.Server) string {
	t.Helper()
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

const chatBody = `{"model":"deepseek-chat","messages":[{"role":"user","content":"hello there"}]}`

// chat posts a chat completion to s through c with the given bearer and
// priority, reads the whole body and returns status and body; a non-nil
// error is RoundTrip's or the body's.
func chat(t *testing.T, c *http.Client, s *llmtest.Server, bearer, body string, p transport.Priority) (int, string, error) {
	t.Helper()
	ctx := transport.WithPriority(context.Background(), p)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func mustChat(t *testing.T, c *http.Client, s *llmtest.Server, want int) {
	t.Helper()
	code, _, err := chat(t, c, s, "k", chatBody, transport.Interactive)
	if err != nil || code != want {
		t.Fatalf("chat: %d, %v; want %d", code, err, want)
	}
}

func TestLLMLifecycle(t *testing.T) {
	b, clk := newTestBreaker(testConfig())
	srv := newLLM(t, llmtest.Config{ServiceTime: time.Millisecond})
	c := newClient(t, b)
	key := llmKey(t, srv)

	srv.Script(llmtest.Overload, llmtest.Overload, llmtest.Overload, llmtest.Overload)
	for range 4 {
		mustChat(t, c, srv, http.StatusServiceUnavailable)
	}
	if got := b.StateOf(key); got != Open {
		t.Fatalf("state %v after 4 × 503, want open", got)
	}
	before := srv.Stats().Requests
	for range 10 {
		if _, _, err := chat(t, c, srv, "k", chatBody, transport.Interactive); !errors.Is(err, ErrOpen) {
			t.Fatalf("while open: %v, want ErrOpen", err)
		}
	}
	if got := srv.Stats().Requests; got != before {
		t.Fatalf("server saw %d requests while open, want 0", got-before)
	}

	// Half-open after the delay; a failed probe re-opens.
	clk.Advance(10 * time.Second)
	srv.Script(llmtest.Overload)
	mustChat(t, c, srv, http.StatusServiceUnavailable)
	if got := b.StateOf(key); got != Open {
		t.Fatalf("state %v after a failed probe, want open", got)
	}
	if _, _, err := chat(t, c, srv, "k", chatBody, transport.Interactive); !errors.Is(err, ErrOpen) {
		t.Fatalf("re-opened: %v, want ErrOpen", err)
	}

	// Two successful probes close it.
	clk.Advance(10 * time.Second)
	mustChat(t, c, srv, http.StatusOK)
	if got := b.StateOf(key); got != HalfOpen {
		t.Fatalf("state %v after one probe, want half-open", got)
	}
	mustChat(t, c, srv, http.StatusOK)
	if got := b.StateOf(key); got != Closed {
		t.Fatalf("state %v after two probes, want closed", got)
	}
	if got := srv.Stats().Requests; got != before+3 {
		t.Fatalf("server saw %d requests since opening, want 3 probes", got-before)
	}
}

func TestLLMMidStreamFailureCounts(t *testing.T) {
	cfg := testConfig()
	cfg.MinRequests = 2
	b, _ := newTestBreaker(cfg)
	srv := newLLM(t, llmtest.Config{ServiceTime: time.Millisecond})
	c := newClient(t, b)
	srv.Script(llmtest.CutMidBody, llmtest.CutMidBody)
	stream := `{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	for range 2 {
		code, _, err := chat(t, c, srv, "k", stream, transport.Interactive)
		if code != http.StatusOK || err == nil {
			t.Fatalf("cut stream: %d, %v; want 200 and a read error", code, err)
		}
	}
	if got := b.StateOf(llmKey(t, srv)); got != Open {
		t.Fatalf("state %v after two cut streams, want open", got)
	}
}

func TestLLMPaymentAndBadRequestNeverCount(t *testing.T) {
	b, _ := newTestBreaker(testConfig())
	srv := newLLM(t, llmtest.Config{ServiceTime: time.Millisecond, PaymentRequiredKey: "broke"})
	c := newClient(t, b)
	for range 10 {
		if code, _, err := chat(t, c, srv, "broke", chatBody, transport.Interactive); code != http.StatusPaymentRequired {
			t.Fatalf("402 request: %d, %v", code, err)
		}
		if code, _, err := chat(t, c, srv, "k", `{"model":`, transport.Interactive); code != http.StatusBadRequest {
			t.Fatalf("400 request: %d, %v", code, err)
		}
	}
	if got := b.StateOf(llmKey(t, srv)); got != Closed {
		t.Fatalf("state %v after 402s and 400s, want closed", got)
	}
	if st := srv.Stats(); st.PaymentRequired != 10 || st.BadRequest != 10 {
		t.Fatalf("server stats %+v, want 10 × 402 and 10 × 400", st)
	}
}

func TestLLMFallback(t *testing.T) {
	primary := newLLM(t, llmtest.Config{ServiceTime: time.Millisecond, APIKey: "primary-key", RecordRequests: true})
	secondary := newLLM(t, llmtest.Config{ServiceTime: time.Millisecond, APIKey: "fallback-key", RecordRequests: true})
	fbBase := &http.Transport{}
	t.Cleanup(fbBase.CloseIdleConnections)
	fb, err := Retarget(fbBase, Target{BaseURL: secondary.URL(), APIKey: "fallback-key", Model: "gpt-4o-mini"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Fallback = fb
	b, _ := newTestBreaker(cfg)
	c := newClient(t, b)

	primary.Script(llmtest.Overload, llmtest.Overload, llmtest.Overload, llmtest.Overload)
	for range 4 {
		if code, _, _ := chat(t, c, primary, "primary-key", chatBody, transport.Background); code != 503 {
			t.Fatalf("opening: %d", code)
		}
	}
	before := primary.Stats().Requests

	for range 3 {
		if _, _, err := chat(t, c, primary, "primary-key", chatBody, transport.Background); !errors.Is(err, ErrOpen) {
			t.Fatalf("background while open: %v, want ErrOpen", err)
		}
	}
	if n := secondary.Stats().Requests; n != 0 {
		t.Fatalf("fallback saw %d background requests", n)
	}
	for range 3 {
		code, body, err := chat(t, c, primary, "primary-key", chatBody, transport.Interactive)
		if err != nil || code != http.StatusOK {
			t.Fatalf("interactive while open: %d, %v, %s", code, err, body)
		}
		var answer struct{ Model string }
		if err := json.Unmarshal([]byte(body), &answer); err != nil || answer.Model != "gpt-4o-mini" {
			t.Fatalf("fallback answer model %q (%v), want gpt-4o-mini", answer.Model, err)
		}
	}
	if got := primary.Stats().Requests; got != before {
		t.Fatalf("primary saw %d requests while open", got-before)
	}

	for _, r := range primary.Requests() {
		if a := r.Header.Values("Authorization"); len(a) != 1 || a[0] != "Bearer primary-key" {
			t.Fatalf("primary got Authorization %q", a)
		}
	}
	fbReqs := secondary.Requests()
	if len(fbReqs) != 3 {
		t.Fatalf("fallback recorded %d requests, want 3", len(fbReqs))
	}
	for _, r := range fbReqs {
		if a := r.Header.Values("Authorization"); len(a) != 1 || a[0] != "Bearer fallback-key" {
			t.Fatalf("fallback got Authorization %q", a)
		}
		if r.Path != "/v1/chat/completions" {
			t.Fatalf("fallback path %q", r.Path)
		}
		want := strings.Replace(chatBody, "deepseek-chat", "gpt-4o-mini", 1)
		if string(r.Body) != want {
			t.Fatalf("fallback body %s, want %s", r.Body, want)
		}
	}
}
