package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pacerhttp/pacer/llmtest"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// upstream is an llmtest API behind a server that counts every request
// reaching it and keeps the headers of the last one.
type upstream struct {
	*llmtest.Handler
	srv  *httptest.Server
	hits atomic.Int64

	mu   sync.Mutex
	last http.Header
}

func newUpstream(t testing.TB, cfg llmtest.Config) *upstream {
	return newUpstreamHandler(t, llmtest.NewHandler(cfg))
}

// newUpstreamHandler is newUpstream with a handler of the test's own; a
// nil h answers nothing but is counted.
func newUpstreamHandler(t testing.TB, h http.Handler) *upstream {
	u := &upstream{}
	if lh, ok := h.(*llmtest.Handler); ok {
		u.Handler = lh
	}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.mu.Lock()
		u.last = r.Header.Clone()
		u.mu.Unlock()
		if h == nil {
			io.WriteString(w, "reached\n")
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		if u.Handler != nil {
			u.Handler.Close()
		}
		u.srv.Close()
	})
	return u
}

func (u *upstream) lastHeader() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

// testProxy is the proxy handler, built as pacer proxy builds it, on an
// httptest server.
type testProxy struct {
	parts *proxyParts
	srv   *httptest.Server
	logs  *lockedBuffer
	url   string // the proxy's base URL, ending in /v1
}

// startProxy starts a proxy to up with the given extra flags and
// environment; its log, at debug level, is kept in logs.
func startProxy(t testing.TB, up *upstream, env map[string]string, args ...string) *testProxy {
	t.Helper()
	o, err := parseProxyArgs(append([]string{"-upstream", up.srv.URL}, args...), io.Discard, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pp, err := buildProxy(o, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(pp.handler)
	t.Cleanup(func() {
		srv.Close()
		if err := pp.close(); err != nil {
			t.Error(err)
		}
	})
	return &testProxy{parts: pp, srv: srv, logs: logs, url: srv.URL + "/v1"}
}

func (tp *testProxy) inFlight() int { return tp.parts.stack.Gate.Stats().InFlight }

// newClient returns a client of its own, whose idle connections are
// closed when the test ends.
func newClient(t testing.TB) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// chatBody is a chat completion request.
func chatBody(prompt string, stream bool) string {
	b, _ := json.Marshal(map[string]any{
		"model":    "deepseek-chat",
		"stream":   stream,
		"messages": []map[string]string{{"role": "user", "content": prompt}},
	})
	return string(b)
}

func postChat(t testing.TB, c *http.Client, url, prompt string, stream bool, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/chat/completions", strings.NewReader(chatBody(prompt, stream)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return string(b)
}

// readEvent reads one SSE event (up to its blank line) from br.
func readEvent(t testing.TB, br *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			t.Fatalf("reading an event: %v (got %q)", err, b.String())
		}
		if line == "\n" && strings.TrimSpace(b.String()) != "" {
			return b.String()
		}
	}
}
