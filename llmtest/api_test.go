package llmtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/llmtest"
)

func TestAuthAndBadRequests(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{APIKey: "good", PaymentRequiredKey: "broke", RecordRequests: true})
	defer s.Close()
	c := s.Client()
	send := func(method, path, key, body string) (int, string) {
		req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		method, path, key, body string
		status                  int
		code                    string
	}{
		{"POST", "/chat/completions", "good", chatJSON, 200, ""},
		{"POST", "/chat/completions", "broke", chatJSON, 402, "insufficient_balance"},
		{"POST", "/chat/completions", "bad", chatJSON, 401, "invalid_api_key"},
		{"POST", "/chat/completions", "", chatJSON, 401, "invalid_api_key"},
		{"POST", "/chat/completions", "good", `{"model":`, 400, "invalid_request_error"},
		{"POST", "/chat/completions", "good", `[1,2]`, 400, "invalid_request_error"},
		{"GET", "/chat/completions", "good", "", 405, "method_not_allowed"},
		{"GET", "/nowhere", "good", "", 404, "not_found"},
		{"GET", "/models", "bad", "", 401, "invalid_api_key"},
		{"GET", "/models", "good", "", 200, ""},
	} {
		status, body := send(tc.method, tc.path, tc.key, tc.body)
		if status != tc.status {
			t.Errorf("%s %s key %q: status %d, want %d", tc.method, tc.path, tc.key, status, tc.status)
			continue
		}
		if tc.code != "" {
			if e := decodeError(t, body); e.Error.Code != tc.code {
				t.Errorf("%s %s key %q: code %q, want %q", tc.method, tc.path, tc.key, e.Error.Code, tc.code)
			}
		}
		if tc.path == "/models" && status == 200 {
			var list struct {
				Object string
				Data   []struct{ ID, Object string }
			}
			if json.Unmarshal([]byte(body), &list) != nil || list.Object != "list" || len(list.Data) == 0 {
				t.Errorf("models %q", body)
			}
		}
	}
	st := s.Stats()
	if st.Requests != 7 || st.Completed != 1 || st.PaymentRequired != 1 || st.Unauthorized != 3 || st.BadRequest != 3 {
		t.Errorf("stats %+v", st)
	}
	reqs := s.Requests()
	if len(reqs) != 10 {
		t.Fatalf("recorded %d requests, want 10", len(reqs))
	}
	if r := reqs[0]; r.Method != "POST" || r.Path != "/v1/chat/completions" || string(r.Body) != chatJSON ||
		r.Header.Get("Authorization") != "Bearer good" {
		t.Errorf("first request %+v", r)
	}
}

func TestRequestsNotRecordedByDefault(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{})
	defer s.Close()
	do(t, s.Client(), s, chatJSON)
	if got := s.Requests(); got != nil {
		t.Errorf("Requests() = %v without RecordRequests", got)
	}
}

func TestModelEchoedAndContentParts(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{ServiceTime: -1})
	defer s.Close()
	body := `{"model":"m \"quoted\"","messages":[{"role":"user","content":[{"type":"text","text":"one two"},{"type":"text","text":"three"}]}]}`
	r := do(t, s.Client(), s, body)
	c := decodeCompletion(t, r.body)
	if c.Model != `m "quoted"` || c.Usage.PromptTokens != 3 {
		t.Errorf("model %q, usage %+v", c.Model, c.Usage)
	}
}
