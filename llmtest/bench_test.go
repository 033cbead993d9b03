package llmtest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/llmtest"
)

// benchServe measures requests per second through a loopback client; the
// baseline is an httptest server writing a fixed answer.
func benchServe(b *testing.B, url, body string) {
	tr := newTransport()
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Post(url, "application/json", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

func BenchmarkServe(b *testing.B) {
	b.Run("baseline=httptest", func(b *testing.B) {
		answer := `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the fake."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}`
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, answer)
		}))
		defer ts.Close()
		benchServe(b, ts.URL, chatJSON)
	})
	for _, tc := range []struct{ name, body string }{{"json", chatJSON}, {"stream", chatStreamJSON}} {
		b.Run("llmtest="+tc.name, func(b *testing.B) {
			s := llmtest.NewServer(llmtest.Config{ServiceTime: -1, Phases: []llmtest.Phase{{Limit: 1000}}})
			defer s.Close()
			benchServe(b, s.URL()+"/chat/completions", tc.body)
		})
	}
}
