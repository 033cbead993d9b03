package llmtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/llmtest"
)

const chatJSON = `{"model":"deepseek-chat","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"say hello please"}]}`

const chatStreamJSON = `{"model":"deepseek-chat","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"say hello please"}]}`

// result is what a client saw for one request.
type result struct {
	status  int
	header  http.Header
	body    string
	err     error // from Do
	readErr error // from reading the body
}

func do(t *testing.T, c *http.Client, s *llmtest.Server, body string) result {
	t.Helper()
	return doCtx(t, context.Background(), c, s, body)
}

func doCtx(t *testing.T, ctx context.Context, c *http.Client, s *llmtest.Server, body string) result {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: string(b), readErr: rerr}
}

type apiError struct {
	Error struct {
		Message, Type, Code string
	}
}

func decodeError(t *testing.T, body string) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if e.Error.Message == "" || e.Error.Type == "" || e.Error.Code == "" {
		t.Fatalf("error body %q lacks message, type or code", body)
	}
	return e
}

func newTransport() *http.Transport {
	return &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
}

const chatJSONExample = `{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}`

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
