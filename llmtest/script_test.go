package llmtest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/llmtest"
)

type completion struct {
	ID, Object, Model string
	Choices           []struct {
		Message      struct{ Role, Content string }
		FinishReason string `json:"finish_reason"`
	}
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
}

func decodeCompletion(t *testing.T, body string) completion {
	t.Helper()
	var c completion
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatalf("completion %q: %v", body, err)
	}
	return c
}

func TestNormalAnswer(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{StreamChunks: 9})
	defer s.Close()
	r := do(t, s.Client(), s, chatJSON)
	if r.status != http.StatusOK || r.readErr != nil {
		t.Fatalf("status %d, %v", r.status, r.readErr)
	}
	c := decodeCompletion(t, r.body)
	if c.Object != "chat.completion" || c.Model != "deepseek-chat" || len(c.Choices) != 1 ||
		c.Choices[0].Message.Content != s.Answer() || c.Choices[0].FinishReason != "stop" {
		t.Errorf("completion %+v", c)
	}
	// "be brief" + "say hello please" = 5 words; 9 chunks.
	if c.Usage.PromptTokens != 5 || c.Usage.CompletionTokens != 9 || c.Usage.TotalTokens != 14 {
		t.Errorf("usage %+v", c.Usage)
	}
	if s.Answer() != "Hello from the fake API of llmtest more more." {
		t.Errorf("answer %q", s.Answer())
	}
}

func TestStreamAnswer(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{})
	defer s.Close()
	for _, usage := range []bool{true, false} {
		body := chatStreamJSON
		if !usage {
			body = strings.Replace(body, `"include_usage":true`, `"include_usage":false`, 1)
		}
		r := do(t, s.Client(), s, body)
		if r.status != http.StatusOK || r.readErr != nil || r.header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("status %d, %v, %q", r.status, r.readErr, r.header.Get("Content-Type"))
		}
		events := strings.Split(strings.TrimSuffix(r.body, "\n\n"), "\n\n")
		if events[len(events)-1] != "data: [DONE]" {
			t.Fatalf("last event %q", events[len(events)-1])
		}
		var content string
		var gotUsage bool
		for _, e := range events[:len(events)-1] {
			var chunk struct {
				Object  string
				Choices []struct{ Delta struct{ Content string } }
				Usage   *struct {
					TotalTokens int `json:"total_tokens"`
				}
			}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(e, "data: ")), &chunk); err != nil {
				t.Fatalf("event %q: %v", e, err)
			}
			if chunk.Object != "chat.completion.chunk" {
				t.Errorf("object %q", chunk.Object)
			}
			for _, c := range chunk.Choices {
				content += c.Delta.Content
			}
			if chunk.Usage != nil {
				gotUsage = true
				if chunk.Usage.TotalTokens != 3+4 || len(chunk.Choices) != 0 {
					t.Errorf("usage event %q", e)
				}
			}
		}
		if content != s.Answer() || gotUsage != usage {
			t.Errorf("include_usage=%v: content %q, usage event %v", usage, content, gotUsage)
		}
	}
}

func TestScriptedBehaviors(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{
		Faults: llmtest.Faults{SlowHeadersDelay: 5 * time.Millisecond},
		Wait:   llmtest.Wait{Interval: 2 * time.Millisecond},
	})
	defer s.Close()
	tr := newTransport()
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}

	errStatus := map[llmtest.Behavior]int{
		llmtest.RateLimit:       429,
		llmtest.Overload:        503,
		llmtest.ServerError:     500,
		llmtest.PaymentRequired: 402,
	}
	for b, status := range errStatus {
		s.Script(b)
		r := do(t, c, s, chatJSON)
		if r.status != status {
			t.Errorf("%v: status %d, want %d", b, r.status, status)
			continue
		}
		decodeError(t, r.body)
	}

	s.Script(llmtest.ResetBeforeHeaders)
	if r := do(t, c, s, chatJSON); r.err == nil {
		t.Errorf("ResetBeforeHeaders: got status %d, want a connection error", r.status)
	}

	for _, body := range []string{chatJSON, chatStreamJSON} {
		s.Script(llmtest.CutMidBody)
		r := do(t, c, s, body)
		if r.err != nil || r.status != 200 || !errors.Is(r.readErr, io.ErrUnexpectedEOF) {
			t.Errorf("CutMidBody: %v, status %d, read error %v", r.err, r.status, r.readErr)
		}
		if strings.Contains(r.body, "[DONE]") || strings.Contains(r.body, `"usage"`) {
			t.Errorf("CutMidBody: body %q is complete", r.body)
		}
	}

	s.Script(llmtest.SlowHeaders)
	if r := do(t, c, s, chatJSON); r.status != 200 || r.readErr != nil {
		t.Errorf("SlowHeaders: status %d, %v", r.status, r.readErr)
	} else {
		decodeCompletion(t, r.body)
	}

	s.Script(llmtest.WaitThenAnswer)
	r := do(t, c, s, chatJSON)
	if r.status != 200 || r.readErr != nil || !strings.HasPrefix(r.body, "\n") {
		t.Errorf("WaitThenAnswer: status %d, %v, body %q", r.status, r.readErr, r.body)
	} else {
		decodeCompletion(t, strings.TrimLeft(r.body, "\n"))
	}

	s.Script(llmtest.WaitThenClose)
	r = do(t, c, s, chatJSON)
	if r.status != 200 || r.readErr == nil || strings.Trim(r.body, "\n") != "" {
		t.Errorf("WaitThenClose: status %d, %v, body %q", r.status, r.readErr, r.body)
	}

	s.Script(llmtest.TruncatedJSON)
	r = do(t, c, s, chatJSON)
	if r.status != 200 || r.readErr != nil || r.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
		t.Errorf("TruncatedJSON: status %d, %v, length %q vs %d", r.status, r.readErr, r.header.Get("Content-Length"), len(r.body))
	}
	if json.Valid([]byte(r.body)) {
		t.Errorf("TruncatedJSON: body %q is valid JSON", r.body)
	}

	s.Script(llmtest.Normal)
	if r := do(t, c, s, chatJSON); r.status != 200 {
		t.Errorf("Normal: status %d", r.status)
	}

	st := s.Stats()
	want := llmtest.Stats{
		Requests: 12, Completed: 4, RateLimited: 1, Overloaded: 1, ServerErrors: 1,
		PaymentRequired: 1, ClosedWhileWaiting: 1, Faults: 5,
	}
	if st.Requests != want.Requests || st.Completed != want.Completed || st.RateLimited != want.RateLimited ||
		st.Overloaded != want.Overloaded || st.ServerErrors != want.ServerErrors ||
		st.PaymentRequired != want.PaymentRequired || st.ClosedWhileWaiting != want.ClosedWhileWaiting ||
		st.Faults != want.Faults || st.InFlight != 0 {
		t.Errorf("stats %+v, want counts %+v", st, want)
	}
	if got := llmtest.TruncatedJSON.String(); got != "TruncatedJSON" {
		t.Errorf("String() = %q", got)
	}
}

func TestRetryAfterModes(t *testing.T) {
	for _, tc := range []struct {
		mode  llmtest.RetryAfterMode
		check func(h http.Header) bool
	}{
		{llmtest.RetryAfterNone, func(h http.Header) bool {
			return h.Get("Retry-After") == "" && h.Get("Retry-After-Ms") == ""
		}},
		{llmtest.RetryAfterSeconds, func(h http.Header) bool { return h.Get("Retry-After") == "3" }},
		{llmtest.RetryAfterMillis, func(h http.Header) bool {
			return h.Get("retry-after-ms") == "2500" && h.Get("Retry-After") == ""
		}},
		{llmtest.RetryAfterHTTPDate, func(h http.Header) bool {
			at, err := http.ParseTime(h.Get("Retry-After"))
			return err == nil && at.After(time.Now().Add(-time.Second)) && at.Before(time.Now().Add(time.Minute))
		}},
	} {
		s := llmtest.NewServer(llmtest.Config{RetryAfter: tc.mode, RetryAfterDelay: 2500 * time.Millisecond})
		s.Script(llmtest.RateLimit, llmtest.Overload, llmtest.ServerError)
		for _, want := range []int{429, 503} {
			r := do(t, s.Client(), s, chatJSON)
			if r.status != want || !tc.check(r.header) {
				t.Errorf("mode %d: status %d, header %v", tc.mode, r.status, r.header)
			}
		}
		if r := do(t, s.Client(), s, chatJSON); r.header.Get("Retry-After") != "" || r.header.Get("Retry-After-Ms") != "" {
			t.Errorf("mode %d: 500 carries a retry header %v", tc.mode, r.header)
		}
		s.Close()
	}
}
