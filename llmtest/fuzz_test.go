package llmtest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/llmtest"
)

// FuzzChatRequest checks that any request body gets either a complete
// answer or a 400 with the error JSON, and that answers are valid JSON.
func FuzzChatRequest(f *testing.F) {
	for _, seed := range []string{
		chatJSON, chatStreamJSON, `{}`, `null`, `[]`, `{"model":`, `{"messages":[{"content":null}]}`,
		`{"messages":[{"content":[{"text":"a b"},{"type":"image_url"}]}]}`,
		`{"model":"\u00e9\"x","stream":true,"stream_options":null}`, `{"stream":"yes"}`,
	} {
		f.Add(seed)
	}
	s := llmtest.NewServer(llmtest.Config{ServiceTime: -1})
	f.Cleanup(s.Close)
	f.Fuzz(func(t *testing.T, body string) {
		r := do(t, s.Client(), s, body)
		if r.err != nil || r.readErr != nil {
			t.Fatalf("body %q: %v %v", body, r.err, r.readErr)
		}
		switch r.status {
		case http.StatusBadRequest:
			decodeError(t, r.body)
		case http.StatusOK:
			if r.header.Get("Content-Type") == "text/event-stream" {
				if !strings.HasSuffix(r.body, "data: [DONE]\n\n") {
					t.Fatalf("body %q: stream %q", body, r.body)
				}
				return
			}
			if !json.Valid([]byte(r.body)) {
				t.Fatalf("body %q: answer %q", body, r.body)
			}
		default:
			t.Fatalf("body %q: status %d", body, r.status)
		}
	})
}
