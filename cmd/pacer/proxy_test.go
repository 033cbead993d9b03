package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/llmtest"
)

// A JSON answer and the model list come back through the proxy as the
// upstream sent them, and the permit is released.
func TestProxyForwardsJSON(t *testing.T) {
	up := newUpstream(t, llmtest.Config{})
	tp := startProxy(t, up, nil)
	c := newClient(t)

	resp := postChat(t, c, tp.url, "hello there", false)
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var answer struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	if len(answer.Choices) != 1 || answer.Choices[0].Message.Content != up.Answer() || answer.Usage.PromptTokens != 2 {
		t.Errorf("answer %s: want the upstream's answer and usage", body)
	}

	resp, err := c.Get(tp.url + "/models")
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "deepseek") {
		t.Errorf("GET /v1/models: %d %s", resp.StatusCode, body)
	}
	if n := up.hits.Load(); n != 2 {
		t.Errorf("upstream saw %d requests, want 2", n)
	}
	testwait.For(t, func() bool { return tp.inFlight() == 0 }, "0 in flight")
}

// A streamed answer arrives complete; the keep-alive comments sent while
// it waits to be scheduled are filtered out, or passed with
// -pass-keepalive.
func TestProxyStreams(t *testing.T) {
	for _, pass := range []bool{false, true} {
		t.Run(fmt.Sprintf("pass-keepalive=%v", pass), func(t *testing.T) {
			up := newUpstream(t, llmtest.Config{
				StreamChunks: 8,
				Wait:         llmtest.Wait{Share: 1, Duration: 30 * time.Millisecond, Interval: 5 * time.Millisecond},
			})
			var args []string
			if pass {
				args = append(args, "-pass-keepalive")
			}
			tp := startProxy(t, up, nil, args...)
			resp := postChat(t, newClient(t), tp.url, "stream please", true)
			body := readAll(t, resp)
			if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
				t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
			}
			if !strings.Contains(body, "data: [DONE]") {
				t.Errorf("stream did not end with [DONE]:\n%s", body)
			}
			var content strings.Builder
			for _, line := range strings.Split(body, "\n") {
				data, ok := strings.CutPrefix(line, "data: ")
				if !ok || data == "[DONE]" {
					continue
				}
				var chunk struct {
					Choices []struct {
						Delta struct{ Content string } `json:"delta"`
					} `json:"choices"`
				}
				if err := json.Unmarshal([]byte(data), &chunk); err != nil {
					t.Fatalf("chunk %q: %v", data, err)
				}
				for _, c := range chunk.Choices {
					content.WriteString(c.Delta.Content)
				}
			}
			if content.String() != up.Answer() {
				t.Errorf("streamed content %q, want %q", content.String(), up.Answer())
			}
			if got := strings.Contains(body, ": keep-alive"); got != pass {
				t.Errorf("keep-alive comments in the stream: %v, want %v", got, pass)
			}
		})
	}
}

// Each event is flushed to the caller as it arrives: the upstream sends
// its second event only after the caller has read the first through the
// proxy, which a buffering proxy would never deliver.
func TestProxyFlushesEachEvent(t *testing.T) {
	release := make(chan struct{})
	up := newUpstreamHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"n\":1}\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: {\"n\":2}\n\ndata: [DONE]\n\n")
	}))
	tp := startProxy(t, up, nil)
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Bound)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, tp.url+"/chat/completions", strings.NewReader(chatBody("hi", true)))
	resp, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if ev := readEvent(t, br); !strings.Contains(ev, `"n":1`) {
		t.Fatalf("first event %q", ev)
	}
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil || !strings.Contains(string(rest), `"n":2`) || !strings.Contains(string(rest), "[DONE]") {
		t.Errorf("rest of the stream %q, %v", rest, err)
	}
}

// rawRequest writes req as is on a new connection to addr and reads the
// answer.
func rawRequest(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testwait.Bound))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", req, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// The proxy is no open relay: absolute-form URLs naming another host,
// CONNECT and a Host header naming another host are refused with a 4xx,
// and neither the upstream nor the other host sees anything.
func TestProxyRefusesRelay(t *testing.T) {
	up := newUpstream(t, llmtest.Config{})
	other := newUpstreamHandler(t, nil)
	tp := startProxy(t, up, nil)
	addr := tp.srv.Listener.Addr().String()
	otherURL, _ := url.Parse(other.srv.URL)
	body := chatBody("relay me", false)

	tests := []struct {
		name, req string
		want      int
	}{
		{"absolute-form", fmt.Sprintf("POST %s/v1/chat/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", other.srv.URL, otherURL.Host, len(body), body), http.StatusBadRequest},
		{"absolute-form naming the proxy's host", fmt.Sprintf("GET http://%s/v1/models HTTP/1.1\r\nHost: %s\r\n\r\n", addr, addr), http.StatusBadRequest},
		{"CONNECT", fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", otherURL.Host, otherURL.Host), http.StatusMethodNotAllowed},
		{"Host of another server", fmt.Sprintf("GET /v1/models HTTP/1.1\r\nHost: %s\r\n\r\n", otherURL.Host), http.StatusMisdirectedRequest},
		{"Host of a rebinding name", "GET /v1/models HTTP/1.1\r\nHost: attacker.example:8787\r\n\r\n", http.StatusMisdirectedRequest},
		{"browser origin", fmt.Sprintf("GET /v1/models HTTP/1.1\r\nHost: %s\r\nOrigin: https://attacker.example\r\n\r\n", addr), http.StatusForbidden},
		{"cross-site fetch without origin", fmt.Sprintf("GET /v1/models HTTP/1.1\r\nHost: %s\r\nSec-Fetch-Site: cross-site\r\n\r\n", addr), http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := rawRequest(t, addr, tt.req)
			if code != tt.want || !strings.Contains(msg, "pacer proxy:") {
				t.Errorf("status %d %q, want %d with an explanation", code, msg, tt.want)
			}
		})
	}

	// The same through Go's own proxy support: an http URL is sent in
	// absolute form, an https one through CONNECT.
	proxyURL, _ := url.Parse(tp.srv.URL)
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL)}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(other.srv.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forward-proxy GET: status %d, want 400", resp.StatusCode)
	}
	if _, err := (&http.Client{Transport: tr}).Get("https://" + otherURL.Host + "/v1/models"); err == nil {
		t.Error("a CONNECT tunnel through the proxy was opened")
	}

	if n, m := up.hits.Load(), other.hits.Load(); n != 0 || m != 0 {
		t.Errorf("upstream saw %d requests and the other host %d, want none", n, m)
	}
}

// Hop-by-hop headers (RFC 9110 section 7.6.1) are not forwarded;
// end-to-end ones and the caller's Authorization are.
func TestProxyHopByHopHeaders(t *testing.T) {
	up := newUpstream(t, llmtest.Config{})
	tp := startProxy(t, up, nil)
	resp := postChat(t, newClient(t), tp.url, "headers", false,
		"Authorization", "Bearer sk-caller",
		"Connection", "X-Hop",
		"X-Hop", "1",
		"Keep-Alive", "timeout=5",
		"Proxy-Authorization", "Basic Zm9vOmJhcg==",
		"Proxy-Custom", "1",
		"TE", "trailers",
		"Trailer", "X-Trailer",
		"Upgrade", "websocket",
		"X-End-To-End", "kept",
	)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	h := up.lastHeader()
	for _, k := range []string{"Connection", "X-Hop", "Keep-Alive", "Proxy-Authorization", "Proxy-Custom", "Te", "Trailer", "Upgrade", "Transfer-Encoding", "X-Forwarded-For", "Forwarded"} {
		if v, ok := h[k]; ok {
			t.Errorf("upstream got %s: %q", k, v)
		}
	}
	if got := h.Get("Authorization"); got != "Bearer sk-caller" {
		t.Errorf("upstream got Authorization %q, want the caller's", got)
	}
	if got := h.Get("X-End-To-End"); got != "kept" {
		t.Errorf("upstream got X-End-To-End %q, want kept", got)
	}
}

// With -key-env the key from the environment replaces the caller's and
// goes to the upstream only; neither the key, the caller's key nor the
// prompt appears in the log, the stats or an error answer.
func TestProxyKeyInjectionNeverLeaks(t *testing.T) {
	const (
		envKey    = "sk-env-0123456789abcdef"
		callerKey = "sk-caller-fedcba9876543210"
		prompt    = "purple elephants negotiate tariffs"
	)
	up := newUpstream(t, llmtest.Config{APIKey: envKey, RecordRequests: true})
	other := newUpstreamHandler(t, nil)
	tp := startProxy(t, up, map[string]string{"UPSTREAM_KEY": envKey}, "-key-env", "UPSTREAM_KEY", "-max-body", "4KiB", "-v")
	c := newClient(t)

	resp := postChat(t, c, tp.url, prompt, false, "Authorization", "Bearer "+callerKey)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d (the upstream wants the key from the environment): %s", resp.StatusCode, body)
	}
	resp = postChat(t, c, tp.url, prompt, true)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("stream without a caller key: status %d: %s", resp.StatusCode, body)
	}
	for _, r := range up.Requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer "+envKey {
			t.Errorf("upstream got Authorization %q, want the key from the environment", got)
		}
	}

	// Refusals and failures, with the key and the prompt in play.
	var answers strings.Builder
	big := strings.Repeat(prompt+" ", 200)
	for _, send := range []func() (*http.Response, error){
		func() (*http.Response, error) { // too large
			return c.Post(tp.url+"/chat/completions", "application/json", strings.NewReader(chatBody(big, false)))
		},
		func() (*http.Response, error) { // another host
			req, _ := http.NewRequest(http.MethodPost, tp.url+"/chat/completions?key="+callerKey, strings.NewReader(chatBody(prompt, false)))
			req.Host = "attacker.example"
			req.Header.Set("Authorization", "Bearer "+callerKey)
			return c.Do(req)
		},
		func() (*http.Response, error) { // the upstream fails
			up.Script(llmtest.ResetBeforeHeaders, llmtest.ResetBeforeHeaders, llmtest.ResetBeforeHeaders, llmtest.ResetBeforeHeaders, llmtest.ResetBeforeHeaders, llmtest.ResetBeforeHeaders, llmtest.ResetBeforeHeaders, llmtest.ResetBeforeHeaders)
			return c.Post(tp.url+"/chat/completions?key="+callerKey, "application/json", strings.NewReader(chatBody(prompt, false)))
		},
		func() (*http.Response, error) { return c.Get(tp.srv.URL + statsPath) },
	} {
		resp, err := send()
		if err != nil {
			t.Fatal(err)
		}
		answers.WriteString(readAll(t, resp))
	}
	if other.hits.Load() != 0 {
		t.Error("a request reached another host")
	}
	logs := tp.logs.String()
	if !strings.Contains(logs, "refused") || !strings.Contains(logs, "path=/v1/chat/completions") {
		t.Errorf("the log does not show the refusals and requests:\n%s", logs)
	}
	for what, text := range map[string]string{"log": logs, "answers": answers.String()} {
		for _, secret := range []string{envKey, callerKey, "purple", "elephants"} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s contains %q:\n%s", what, secret, text)
			}
		}
	}
}

// Bodies above -max-body get 413, whether their length is announced or
// not, and never reach the upstream; a body of exactly -max-body passes.
func TestProxyBodyLimit(t *testing.T) {
	up := newUpstream(t, llmtest.Config{})
	tp := startProxy(t, up, nil, "-max-body", "1KiB")
	c := newClient(t)
	post := func(body io.Reader) (int, string) {
		resp, err := c.Post(tp.url+"/chat/completions", "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	exact := chatBody("fits", false)
	exact += strings.Repeat(" ", 1024-len(exact))
	over := exact + " "
	if code, body := post(strings.NewReader(over)); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "-max-body") {
		t.Errorf("announced %d bytes: %d %s, want 413", len(over), code, body)
	}
	// io.MultiReader hides the length: the body is sent chunked.
	if code, body := post(io.MultiReader(strings.NewReader(over))); code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked %d bytes: %d %s, want 413", len(over), code, body)
	}
	if n := up.hits.Load(); n != 0 {
		t.Errorf("upstream saw %d requests, want none", n)
	}
	if code, body := post(io.MultiReader(strings.NewReader(exact))); code != http.StatusOK {
		t.Errorf("exactly -max-body: %d %s, want 200", code, body)
	}
}

// /healthz and /pacer/stats are answered by the proxy, read-only, and
// never forwarded; the stats show the gate's key with its limit.
func TestProxyOwnPaths(t *testing.T) {
	up := newUpstream(t, llmtest.Config{})
	tp := startProxy(t, up, nil)
	c := newClient(t)
	resp, err := c.Get(tp.srv.URL + healthPath)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	readAll(t, postChat(t, c, tp.url, "count me", false))
	hits := up.hits.Load()

	resp, err = c.Get(tp.srv.URL + statsPath)
	if err != nil {
		t.Fatal(err)
	}
	var st proxyStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(st.Gate) != 1 || !strings.Contains(st.Gate[0].Key, "deepseek-chat") || st.Gate[0].Limit < 1 || st.Gate[0].InFlight != 0 {
		t.Errorf("stats %+v: want one gate key for the model, with its limit, none in flight", st)
	}
	if st.Breaker != "closed" || st.SharedLimit || st.Upstream != up.srv.URL {
		t.Errorf("stats %+v", st)
	}
	for _, tt := range []struct{ method, path string }{
		{http.MethodPost, statsPath}, {http.MethodDelete, healthPath}, {http.MethodGet, "/pacer/other"}, {http.MethodGet, metricsPath},
	} {
		req, _ := http.NewRequest(tt.method, tp.srv.URL+tt.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 405 or 404", tt.method, tt.path, resp.StatusCode)
		}
	}
	if n := up.hits.Load(); n != hits {
		t.Errorf("the proxy's own paths were forwarded: %d upstream requests, want %d", n, hits)
	}
}

// With -metrics, /pacer/metrics serves the stack's metrics in the
// Prometheus text format.
func TestProxyMetrics(t *testing.T) {
	up := newUpstream(t, llmtest.Config{})
	tp := startProxy(t, up, nil, "-metrics")
	c := newClient(t)
	readAll(t, postChat(t, c, tp.url, "measure me", false))
	resp, err := c.Get(tp.srv.URL + metricsPath)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"# TYPE pacer_gate_limit gauge", "pacer_gate_limit{", "_bucket{", `le="+Inf"`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics do not contain %q:\n%s", want, body)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.ContainsAny(line[:strings.IndexAny(line+"{ ", "{ ")], ".-/") {
			t.Errorf("malformed sample line %q", line)
		}
	}
}

// A caller that reads a stream slowly holds the permit as long as it
// holds the stream, and not a moment longer: once it has read to the end,
// or hung up, the gate shows nothing in flight.
func TestProxySlowClient(t *testing.T) {
	t.Run("reads to the end", func(t *testing.T) {
		up := newUpstream(t, llmtest.Config{StreamChunks: 64, ServiceTime: 50 * time.Millisecond})
		tp := startProxy(t, up, nil)
		resp := postChat(t, newClient(t), tp.url, "slowly", true)
		defer resp.Body.Close()
		br := bufio.NewReaderSize(resp.Body, 16)
		readEvent(t, br)
		// The caller lags: the upstream finishes before it reads on.
		testwait.For(t, func() bool { return up.Stats().Completed == 1 }, "the upstream to finish the stream")
		var b [1]byte
		var rest strings.Builder
		for {
			n, err := br.Read(b[:])
			rest.Write(b[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !strings.Contains(rest.String(), "[DONE]") {
			t.Errorf("stream ended without [DONE]")
		}
		resp.Body.Close()
		testwait.For(t, func() bool { return tp.inFlight() == 0 }, "0 in flight after the stream was read")
	})
	t.Run("hangs up", func(t *testing.T) {
		up := newUpstream(t, llmtest.Config{StreamChunks: 400, ServiceTime: time.Minute})
		tp := startProxy(t, up, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, tp.url+"/chat/completions", strings.NewReader(chatBody("then hang up", true)))
		resp, err := newClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readEvent(t, bufio.NewReader(resp.Body))
		if n := tp.inFlight(); n != 1 {
			t.Errorf("%d in flight while the stream is held, want 1", n)
		}
		cancel()
		resp.Body.Close()
		testwait.For(t, func() bool { return tp.inFlight() == 0 }, "0 in flight after the caller hung up")
		testwait.For(t, func() bool { return up.Stats().Canceled == 1 }, "the upstream to see the stream canceled")
	})
}

// startServedProxy runs the whole proxy (runProxy) on a loopback port
// until the returned cancel is called; done yields runProxy's error.
func startServedProxy(t *testing.T, up *upstream, logs io.Writer, env map[string]string, args ...string) (addr string, cancel func(), done <-chan error) {
	t.Helper()
	o, err := parseProxyArgs(append([]string{"-upstream", up.srv.URL}, args...), io.Discard, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	finished := make(chan struct{})
	log := newLogger(logs, true)
	go func() {
		ch <- runProxy(ctx, o, ln, log)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	return ln.Addr().String(), cancel, ch
}

// Shutdown refuses new connections at once and lets a stream in progress
// finish; then runProxy returns.
func TestProxyGracefulShutdown(t *testing.T) {
	up := newUpstream(t, llmtest.Config{StreamChunks: 20, ServiceTime: 400 * time.Millisecond})
	logs := &lockedBuffer{}
	const key = "sk-shutdown-secret"
	addr, stop, done := startServedProxy(t, up, logs, map[string]string{"K": key}, "-key-env", "K", "-shutdown-timeout", "20s")
	c := newClient(t)
	resp := postChat(t, c, "http://"+addr+"/v1", "a long answer", true)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	readEvent(t, br)

	stop()
	testwait.For(t, func() bool {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	}, "new connections to be refused")

	rest, err := io.ReadAll(br)
	if err != nil || !strings.Contains(string(rest), "[DONE]") {
		t.Errorf("the stream in progress did not finish: %v, %q", err, rest)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("runProxy: %v", err)
		}
	case <-time.After(testwait.Bound):
		t.Fatal("runProxy did not return after the last stream ended")
	}
	if l := logs.String(); !strings.Contains(l, "shutting down") || strings.Contains(l, key) {
		t.Errorf("log:\n%s", l)
	}
}

// A stream still running at -shutdown-timeout is cut, and runProxy
// returns.
func TestProxyShutdownTimeout(t *testing.T) {
	up := newUpstream(t, llmtest.Config{StreamChunks: 400, ServiceTime: time.Minute})
	logs := &lockedBuffer{}
	addr, stop, done := startServedProxy(t, up, logs, nil, "-shutdown-timeout", "50ms")
	resp := postChat(t, newClient(t), "http://"+addr+"/v1", "never ends", true)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	readEvent(t, br)
	stop()
	if _, err := io.ReadAll(br); err == nil {
		t.Error("the stream ended cleanly, want it cut at the shutdown timeout")
	}
	select {
	case <-done:
	case <-time.After(testwait.Bound):
		t.Fatal("runProxy did not return after the shutdown timeout")
	}
	if !strings.Contains(logs.String(), "shutdown timeout reached") {
		t.Errorf("log:\n%s", logs.String())
	}
}

func TestProxyFlags(t *testing.T) {
	key := env(map[string]string{"K": "sk-x"})
	tests := []struct {
		name string
		env  func(string) string
		args []string
		want string
	}{
		{"no upstream", key, nil, "-upstream is required"},
		{"not a URL", key, []string{"-upstream", "api.deepseek.com"}, "not an http or https URL"},
		{"credentials", key, []string{"-upstream", "https://u:p@api.deepseek.com"}, "must not carry credentials"},
		{"query", key, []string{"-upstream", "https://api.deepseek.com/?a=b"}, "query"},
		{"unset key", env(nil), []string{"-upstream", "https://api.deepseek.com", "-key-env", "K"}, "empty or not set"},
		{"remote with key", key, []string{"-upstream", "https://api.deepseek.com", "-key-env", "K", "-listen", "0.0.0.0:8787"}, "-allow-remote"},
		{"bad size", key, []string{"-upstream", "https://api.deepseek.com", "-max-body", "lots"}, "want a size"},
		{"zero size", key, []string{"-upstream", "https://api.deepseek.com", "-max-body", "0"}, "-max-body must be positive"},
		{"bad listen", key, []string{"-upstream", "https://api.deepseek.com", "-listen", "8787"}, "want host:port"},
		{"bad redis", key, []string{"-upstream", "https://api.deepseek.com", "-redis", "http://x"}, "-redis"},
		{"demo flag", key, []string{"-upstream", "https://api.deepseek.com", "-requests", "3"}, "not defined: -requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.env, append([]string{"proxy"}, tt.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, tt.want)
			}
			if strings.Contains(stderr, "sk-x") {
				t.Error("the key was printed")
			}
		})
	}
	o, err := parseProxyArgs([]string{"-upstream", "https://api.deepseek.com/", "-key-env", "K", "-listen", "0.0.0.0:8787", "-allow-remote", "-max-body", "2MiB"}, io.Discard, key)
	if err != nil {
		t.Fatal(err)
	}
	if o.upstream.String() != "https://api.deepseek.com" || o.maxBody != 2<<20 || o.key != "sk-x" {
		t.Errorf("parsed %+v", o)
	}
	code, _, stderr := runCmd(t, env(nil), "proxy", "-h")
	if code != exitOK {
		t.Errorf("proxy -h: exit %d", code)
	}
	for _, want := range []string{"-upstream", "-listen", "-key-env", "-max-body", "-redis", "-shutdown-timeout", "-pass-keepalive", "-metrics", "(default 32MiB)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("proxy -h does not mention %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "-requests") || strings.Contains(stderr, "-svg") {
		t.Errorf("proxy -h lists the demo's flags:\n%s", stderr)
	}
}
