package breaker

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/transport"
)

// captured is what a capturing transport saw of one request.
type captured struct {
	url, host     string
	header        http.Header
	body          string
	contentLength int64
	getBody       string
	trailer       http.Header
}

func capture(got *captured) http.RoundTripper {
	return transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		got.url, got.host = req.URL.String(), req.Host
		got.header = req.Header.Clone()
		got.trailer = req.Trailer.Clone()
		got.contentLength = req.ContentLength
		if req.Body != nil {
			b, _ := io.ReadAll(req.Body)
			_ = req.Body.Close()
			got.body = string(b)
		}
		if req.GetBody != nil {
			rc, _ := req.GetBody()
			b, _ := io.ReadAll(rc)
			got.getBody = string(b)
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
	})
}

func TestRetargetURL(t *testing.T) {
	for _, tc := range []struct {
		base, strip, in, want string
		query                 []string
	}{
		{"https://api.openai.com/v1", "", "https://api.deepseek.com/v1/chat/completions", "https://api.openai.com/v1/chat/completions", nil},
		{"https://api.openai.com/v1", "", "https://api.deepseek.com/chat/completions", "https://api.openai.com/v1/chat/completions", nil},
		{"https://openrouter.ai/api/v1/", "", "https://api.deepseek.com/v1/models?x=1", "https://openrouter.ai/api/v1/models", nil},
		{"https://openrouter.ai/api/v1/", "", "https://api.deepseek.com/v1/models?x=1&key=k;limit=2", "https://openrouter.ai/api/v1/models?x=1&limit=2", []string{"x", "limit"}},
		{"http://127.0.0.1:9/v1", "/api/v1", "https://proxy.example/api/v1/embeddings", "http://127.0.0.1:9/v1/embeddings", nil},
		{"https://api.openai.com/v1", "", "https://api.deepseek.com/v1beta/x", "https://api.openai.com/v1/v1beta/x", nil},
		{"https://x.example/v1?api-version=2", "", "https://api.deepseek.com/v1/chat/completions?a=b", "https://x.example/v1/chat/completions?api-version=2&a=b", []string{"a"}},
		{"https://x.example/v1?api-version=2", "", "https://api.deepseek.com/v1/chat/completions?a=b", "https://x.example/v1/chat/completions?api-version=2", nil},
	} {
		var got captured
		rt, err := Retarget(capture(&got), Target{BaseURL: tc.base, StripPrefix: tc.strip, Query: tc.query})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, tc.in, nil)
		if _, err := rt.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if got.url != tc.want || got.host != "" {
			t.Errorf("%s via %s = %s (Host %q), want %s", tc.in, tc.base, got.url, got.host, tc.want)
		}
	}
}

func TestRetargetBadURL(t *testing.T) {
	for _, u := range []string{"", "api.openai.com/v1", "ftp://x/v1", "://bad", "https:///v1"} {
		if _, err := Retarget(nil, Target{BaseURL: u}); err == nil {
			t.Errorf("Retarget(%q): want an error", u)
		}
	}
}

func TestRetargetHeadersAndBody(t *testing.T) {
	var got captured
	rt, err := Retarget(capture(&got), Target{BaseURL: "https://fallback.example/v1", APIKey: "fb-key", Model: "gpt-4o-mini"})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}`
	cb := newCountingBody(body)
	req, _ := http.NewRequest(http.MethodPost, "https://api.deepseek.com/chat/completions", cb)
	req.ContentLength = int64(len(body))
	for k, v := range map[string]string{
		"Authorization": "Bearer primary-key", "Api-Key": "p", "X-Api-Key": "p",
		"OpenAI-Organization": "org", "OpenAI-Project": "proj", "Content-Type": "application/json",
	} {
		req.Header.Set(k, v)
	}
	snap := snapshot(req)
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if snap != snapshot(req) {
		t.Fatalf("caller's request changed:\n%s\n%s", snap, snapshot(req))
	}
	if n := cb.closes.Load(); n != 1 {
		t.Fatalf("request body closed %d times, want 1", n)
	}
	if a := got.header.Get("Authorization"); a != "Bearer fb-key" {
		t.Fatalf("Authorization = %q", a)
	}
	for _, h := range []string{"Api-Key", "X-Api-Key", "Openai-Organization", "Openai-Project"} {
		if v := got.header.Values(h); len(v) != 0 {
			t.Fatalf("%s = %q reached the fallback", h, v)
		}
	}
	if got.header.Get("Content-Type") != "application/json" {
		t.Fatal("Content-Type lost")
	}
	want := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	if got.body != want || got.getBody != want || got.contentLength != int64(len(want)) {
		t.Fatalf("body %q, GetBody %q, ContentLength %d; want %q", got.body, got.getBody, got.contentLength, want)
	}
}

func TestRetargetNoKeyDropsAuthorization(t *testing.T) {
	var got captured
	rt, _ := Retarget(capture(&got), Target{BaseURL: "http://local.example/v1"})
	req, _ := http.NewRequest(http.MethodPost, "https://api.deepseek.com/chat/completions", strings.NewReader(`{"model":"m"}`))
	req.Header.Set("Authorization", "Bearer primary-key")
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if v := got.header.Values("Authorization"); len(v) != 0 {
		t.Fatalf("Authorization %q reached the fallback", v)
	}
	if got.body != `{"model":"m"}` {
		t.Fatalf("body %q changed without Target.Model", got.body)
	}
}

func TestRetargetBodyTooLarge(t *testing.T) {
	called := false
	rt, _ := Retarget(transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
		called = true
		return nil, errors.New("unreachable")
	}), Target{BaseURL: "http://local.example/v1", Model: "m", MaxBody: 8})
	cb := newCountingBody(`{"model":"deepseek-chat"}`)
	req, _ := http.NewRequest(http.MethodPost, "https://api.deepseek.com/chat/completions", cb)
	if _, err := rt.RoundTrip(req); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("err = %v, want ErrBodyTooLarge", err)
	}
	if called || cb.closes.Load() != 1 {
		t.Fatalf("base called %v, body closed %d times; want false, 1", called, cb.closes.Load())
	}
}

func TestRetargetNotJSONSentAsIs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	rt, _ := Retarget(base, Target{BaseURL: srv.URL + "/v1", Model: "m"})
	req, _ := http.NewRequest(http.MethodPost, "https://api.deepseek.com/v1/audio", strings.NewReader("not json"))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(b) != "not json" {
		t.Fatalf("echo %q", b)
	}
}

// No credential of the primary crosses to the fallback, whatever header or
// query parameter carries it: the fallback request is built from an
// allowlist, and its credentials come from its Target alone.
func TestRetargetCredentialsNeverCross(t *testing.T) {
	var got captured
	rt, err := Retarget(capture(&got), Target{
		BaseURL: "https://fallback.example/v1?api-version=1",
		APIKey:  "fb-key",
		Header:  http.Header{"x-fallback-project": {"fb-project"}},
		Query:   []string{"limit"},
	})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "SECRET"
	query := "key=" + secret + "&api-key=" + secret + "&token=" + secret + "&sig=" + secret +
		"&limit=5;key=" + secret + "&access_token=" + secret + "&%6Bey=" + secret + "&limit;sig=" + secret
	req, _ := http.NewRequest(http.MethodPost, "https://user:"+secret+"@api.deepseek.com/v1/chat/completions?"+query+"#"+secret,
		strings.NewReader(`{"model":"m"}`))
	for _, h := range []string{
		"Authorization", "Proxy-Authorization", "Cookie", "X-Goog-Api-Key", "Api-Key", "X-Api-Key",
		"OpenAI-Organization", "OpenAI-Project", "Subscription-Key", "Ocp-Apim-Subscription-Key",
		"X-Auth-Token", "X-Amz-Security-Token", "X-Fallback-Project", "Anthropic-Api-Key",
	} {
		req.Header.Set(h, secret)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sdk/1")
	req.Header.Set("Accept", "text/event-stream")
	req.Trailer = http.Header{"X-Sig": {secret}}
	snap := snapshot(req)
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if snap != snapshot(req) {
		t.Fatalf("caller's request changed:\n%s\n%s", snap, snapshot(req))
	}
	if strings.Contains(got.url, secret) {
		t.Errorf("fallback URL %s carries the primary's credentials", got.url)
	}
	if want := "https://fallback.example/v1/chat/completions?api-version=1&limit=5&limit"; got.url != want {
		t.Errorf("fallback URL %s, want %s", got.url, want)
	}
	for k, vs := range got.header {
		for _, v := range vs {
			if strings.Contains(v, secret) {
				t.Errorf("header %s: %q reached the fallback", k, v)
			}
		}
	}
	want := http.Header{
		"Authorization":      {"Bearer fb-key"},
		"X-Fallback-Project": {"fb-project"},
		"Content-Type":       {"application/json"},
		"User-Agent":         {"sdk/1"},
		"Accept":             {"text/event-stream"},
	}
	if fmt.Sprint(got.header) != fmt.Sprint(want) {
		t.Errorf("fallback headers %v, want %v", got.header, want)
	}
	if len(got.trailer) != 0 {
		t.Errorf("trailer %v reached the fallback", got.trailer)
	}
}
