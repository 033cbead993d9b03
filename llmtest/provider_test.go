package llmtest_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/transport"
)

// post sends body to path on srv with the header pairs given, and returns
// the response with its body read.
func post(t *testing.T, srv *llmtest.Server, path, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(srv.URL(), "/v1")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// The OpenAI personality's request window: every answer announces what is
// left in x-ratelimit-* headers that transport.ParseRateLimits reads, and
// the request beyond the window gets 429 with retry-after-ms.
func TestOpenAIRequestWindow(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{Provider: llmtest.OpenAI, Windows: llmtest.Windows{Requests: 3, Tokens: 1000, Period: time.Hour}})
	defer srv.Close()
	const body = `{"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}` // 21 + 50 tokens
	for i := range 4 {
		resp, _ := post(t, srv, "/v1/chat/completions", body)
		rl := transport.ParseRateLimits(resp.Header, time.Now())
		if rl.Requests.Limit != 3 || rl.Tokens.Limit != 1000 || rl.Requests.Reset.IsZero() {
			t.Fatalf("request %d: limits %+v from %v", i, rl, resp.Header)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("request %d: no x-request-id", i)
		}
		if i < 3 {
			cost := int64(len(body))/4 + 50
			if resp.StatusCode != 200 || rl.Requests.Remaining != int64(2-i) || rl.Tokens.Remaining != 1000-int64(i+1)*cost {
				t.Fatalf("request %d: %d, remaining %d requests %d tokens", i, resp.StatusCode, rl.Requests.Remaining, rl.Tokens.Remaining)
			}
			continue
		}
		ms, err := strconv.Atoi(resp.Header.Get("Retry-After-Ms"))
		if resp.StatusCode != 429 || rl.Requests.Remaining != 0 || err != nil || ms <= 0 || ms > 3600_000 {
			t.Fatalf("request beyond the window: %d, remaining %d, retry-after-ms %q", resp.StatusCode, rl.Requests.Remaining, resp.Header.Get("Retry-After-Ms"))
		}
	}
	if s := srv.Stats(); s.RateLimited != 1 || s.Completed != 3 {
		t.Errorf("stats %+v", s)
	}
}

// NoHint leaves the retry-after-ms out of a window's 429, not its headers.
func TestWindowWithoutHint(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{Provider: llmtest.OpenAI, Windows: llmtest.Windows{Requests: 1, Period: time.Hour, NoHint: true}})
	defer srv.Close()
	post(t, srv, "/v1/chat/completions", `{"model":"m","messages":[]}`)
	resp, _ := post(t, srv, "/v1/chat/completions", `{"model":"m","messages":[]}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After-Ms") != "" || resp.Header.Get("X-Ratelimit-Reset-Requests") == "" {
		t.Errorf("%d %v, want a 429 with the reset header and no retry-after-ms", resp.StatusCode, resp.Header)
	}
}

// A token window binds before the request window does.
func TestTokenWindow(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{Provider: llmtest.OpenAI, Windows: llmtest.Windows{Tokens: 250, Period: time.Hour}})
	defer srv.Close()
	const body = `{"model":"m","max_completion_tokens":100,"messages":[]}`
	var statuses []int
	for range 3 {
		resp, _ := post(t, srv, "/v1/chat/completions", body)
		statuses = append(statuses, resp.StatusCode)
	}
	if diff := cmp.Diff([]int{200, 200, 429}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

// A key out of credit gets OpenAI's quota 429, which transport classifies
// as out of credit, not as pacing.
func TestQuotaExhaustedKey(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{Provider: llmtest.OpenAI, QuotaExhaustedKey: "sk-broke"})
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/chat/completions", strings.NewReader(`{"model":"m","messages":[]}`))
	req.Header.Set("Authorization", "Bearer sk-broke")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if o := transport.Classify(resp, nil); resp.StatusCode != 429 || o != transport.QuotaExhausted {
		t.Fatalf("%d classified %v, want 429 quota_exhausted", resp.StatusCode, o)
	}
	if resp, _ := post(t, srv, "/v1/chat/completions", `{"model":"m","messages":[]}`, "Authorization", "Bearer sk-ok"); resp.StatusCode != 200 {
		t.Errorf("another key got %d", resp.StatusCode)
	}
	if s := srv.Stats(); s.QuotaExhausted != 1 {
		t.Errorf("stats %+v", s)
	}
}

// anthropicEvent is one event of the Messages stream.
type anthropicEvent struct {
	name string
	data map[string]any
}

// readEvents parses an event stream into its events.
func readEvents(t *testing.T, body string) []anthropicEvent {
	t.Helper()
	var evs []anthropicEvent
	var cur anthropicEvent
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" {
				evs = append(evs, cur)
			}
			cur = anthropicEvent{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.data); err != nil {
				t.Fatalf("data %q: %v", line, err)
			}
			if cur.data["type"] != cur.name {
				t.Errorf("event %q carries type %v", cur.name, cur.data["type"])
			}
		}
	}
	return evs
}

// The Anthropic personality speaks the Messages API: x-api-key, message
// objects, the event stream with a ping, 529 overloaded_error, its error
// form, and its rate-limit headers.
func TestAnthropicPersonality(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{
		Provider: llmtest.Anthropic, APIKey: "sk-ant", StreamChunks: 3,
		Windows: llmtest.Windows{Requests: 50, Period: time.Minute},
	})
	defer srv.Close()
	const msg = `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Say hello"}]}`

	resp, body := post(t, srv, "/v1/messages", msg, "X-Api-Key", "sk-ant")
	var m struct {
		ID, Type, Role, Model, StopReason string `json:",omitempty"`
		Content                           []struct{ Type, Text string }
		Usage                             struct{ InputTokens, OutputTokens int }
	}
	if err := json.Unmarshal([]byte(body), &m); resp.StatusCode != 200 || err != nil {
		t.Fatalf("%d %q: %v", resp.StatusCode, body, err)
	}
	if m.Type != "message" || m.Role != "assistant" || m.Model != "claude-sonnet-4-5" || len(m.Content) != 1 || m.Content[0].Text != srv.Answer() || !strings.HasPrefix(m.ID, "msg_") {
		t.Errorf("message %+v", m)
	}
	if !strings.Contains(body, `"stop_reason":"end_turn"`) || !strings.Contains(body, `"input_tokens":2`) {
		t.Errorf("message body %s", body)
	}
	rl := transport.ParseRateLimits(resp.Header, time.Now())
	if rl.Requests.Limit != 50 || rl.Requests.Remaining != 49 || rl.Requests.Reset.IsZero() || resp.Header.Get("Request-Id") == "" {
		t.Errorf("headers %v: %+v", resp.Header, rl)
	}

	resp, body = post(t, srv, "/v1/messages", strings.Replace(msg, `"max_tokens"`, `"stream":true,"max_tokens"`, 1), "X-Api-Key", "sk-ant")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
	}
	var names []string
	var text string
	for _, ev := range readEvents(t, body) {
		names = append(names, ev.name)
		if d, ok := ev.data["delta"].(map[string]any); ok && ev.name == "content_block_delta" {
			text += d["text"].(string)
		}
	}
	want := []string{"message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}
	if diff := cmp.Diff(want, names); diff != "" || text != srv.Answer() {
		t.Errorf("events (-want +got):\n%s\ntext %q", diff, text)
	}

	srv.Script(llmtest.Overload)
	resp, body = post(t, srv, "/v1/messages", msg, "X-Api-Key", "sk-ant")
	if resp.StatusCode != 529 || body != `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}` {
		t.Errorf("overload: %d %s", resp.StatusCode, body)
	}
	if o := transport.Classify(resp, nil); o != transport.Overloaded {
		t.Errorf("529 classified %v", o)
	}
	resp, body = post(t, srv, "/v1/messages", msg, "X-Api-Key", "wrong")
	if resp.StatusCode != 401 || !strings.Contains(body, `"authentication_error"`) {
		t.Errorf("wrong key: %d %s", resp.StatusCode, body)
	}
	if resp, _ = post(t, srv, "/v1/messages", msg, "Authorization", "Bearer sk-ant"); resp.StatusCode != 200 {
		t.Errorf("the key as a bearer token: %d", resp.StatusCode)
	}
	if resp, _ = post(t, srv, "/v1/messages", msg, "Authorization", "Bearer wrong"); resp.StatusCode != 401 {
		t.Errorf("a wrong bearer token: %d", resp.StatusCode)
	}
	resp, body = post(t, srv, "/v1/chat/completions", msg, "X-Api-Key", "sk-ant")
	if resp.StatusCode != 404 || !strings.Contains(body, `"not_found_error"`) {
		t.Errorf("chat completions path: %d %s", resp.StatusCode, body)
	}
}

// The Anthropic personality sends its overload inside a 200 stream as an
// error event (ErrorInStream).
func TestAnthropicErrorEvent(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{Provider: llmtest.Anthropic})
	defer srv.Close()
	srv.Script(llmtest.ErrorInStream)
	resp, body := post(t, srv, "/v1/messages", `{"model":"c","max_tokens":8,"stream":true,"messages":[]}`)
	evs := readEvents(t, body)
	if resp.StatusCode != 200 || len(evs) != 1 || evs[0].name != "error" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	if e, _ := evs[0].data["error"].(map[string]any); e["type"] != "overloaded_error" {
		t.Errorf("error event %v", evs[0].data)
	}
}

// An overload window with a share answers about that share of its
// requests with 503, and the others normally.
func TestOverloadShare(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{Seed: 7, ServiceTime: -1, Overload: []llmtest.Window{{Duration: time.Hour, Share: 0.5}}})
	defer srv.Close()
	const n = 200
	for range n {
		post(t, srv, "/v1/chat/completions", `{"model":"m","messages":[]}`)
	}
	s := srv.Stats()
	if s.Overloaded+s.Completed != n || s.Overloaded < n*3/10 || s.Overloaded > n*7/10 {
		t.Errorf("%d of %d overloaded, %d completed; want about half", s.Overloaded, n, s.Completed)
	}
}
