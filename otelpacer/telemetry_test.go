package otelpacer

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/transport"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// fakeGateAndKeepalive writes what a gate (above the attempt layer) and
// keepalive (below it) would write: 10ms of gate wait per attempt before it,
// 5ms of scheduling wait per attempt inside it.
func fakeGate(next http.RoundTripper) http.RoundTripper {
	return transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		transport.RecordFrom(req.Context()).Update(func(f *transport.Facts) {
			f.GateWait += 10 * time.Millisecond
			f.GateKey = "127.0.0.1"
			f.BreakerState = "closed"
		})
		return next.RoundTrip(req)
	})
}

func fakeKeepalive(next http.RoundTripper) http.RoundTripper {
	return transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err == nil {
			transport.RecordFrom(req.Context()).Update(func(f *transport.Facts) { f.ScheduleWait += 5 * time.Millisecond })
		}
		return resp, err
	})
}

func TestRetriedTwice(t *testing.T) {
	s := newSDK(t)
	api := newFakeAPI(t)
	api.fail.Store(2)
	tel := s.telemetry(Config{})
	rt := transport.Chain(nil, tel.Wrap,
		func(next http.RoundTripper) http.RoundTripper { return retryLoop(5, next) },
		fakeGate, tel.WrapAttempt, fakeKeepalive)

	req := newChatRequest(t, api.URL, `{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}`)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := len(s.spans.Ended()); n != 2 {
		t.Fatalf("%d spans ended before the body was read, want the 2 thrown-away attempts", n)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()

	var logical sdktrace.ReadOnlySpan
	var attempts []sdktrace.ReadOnlySpan
	for _, sp := range s.spans.Ended() {
		switch sp.Name() {
		case "chat deepseek-chat":
			logical = sp
		case "POST":
			attempts = append(attempts, sp)
		default:
			t.Errorf("unexpected span %q", sp.Name())
		}
	}
	if logical == nil || len(attempts) != 3 {
		t.Fatalf("got logical %v and %d attempt spans, want 1 and 3", logical != nil, len(attempts))
	}
	if logical.SpanKind() != trace.SpanKindClient {
		t.Errorf("logical kind %v", logical.SpanKind())
	}
	for i, sp := range attempts {
		if sp.Parent().SpanID() != logical.SpanContext().SpanID() {
			t.Errorf("attempt %d is not a child of the logical span", i)
		}
		v, ok := spanAttr(sp, "http.request.resend_count")
		switch {
		case i == 0 && ok:
			t.Errorf("first attempt has resend_count %v", v.String())
		case i > 0 && (!ok || v.AsInt64() != int64(i)):
			t.Errorf("attempt %d: resend_count %v (present %v), want %d", i+1, v.String(), ok, i)
		}
		wantStatus := int64(429)
		if i == 2 {
			wantStatus = 200
		}
		if v, _ := spanAttr(sp, "http.response.status_code"); v.AsInt64() != wantStatus {
			t.Errorf("attempt %d status %d, want %d", i+1, v.AsInt64(), wantStatus)
		}
		if v, _ := spanAttr(sp, "pacer.gate.wait"); v.AsFloat64() != 0.01 {
			t.Errorf("attempt %d gate wait %v, want this attempt's 0.01", i+1, v.AsFloat64())
		}
		if v, _ := spanAttr(sp, "pacer.schedule.wait"); v.AsFloat64() != 0.005 {
			t.Errorf("attempt %d schedule wait %v, want 0.005", i+1, v.AsFloat64())
		}
		if v, _ := spanAttr(sp, "url.full"); v.AsString() != api.URL+"/v1/chat/completions" {
			t.Errorf("url.full %q", v.AsString())
		}
	}
	if attempts[0].Status().Code != codes.Error || attempts[2].Status().Code == codes.Error {
		t.Errorf("attempt statuses %v, %v", attempts[0].Status(), attempts[2].Status())
	}

	want := map[attribute.Key]any{
		"gen_ai.operation.name":      "chat",
		"gen_ai.provider.name":       "openai-compatible",
		"gen_ai.request.model":       "deepseek-chat",
		"gen_ai.response.model":      "deepseek-chat",
		"gen_ai.usage.input_tokens":  int64(12),
		"gen_ai.usage.output_tokens": int64(34),
		"http.response.status_code":  int64(200),
		"pacer.attempts":             int64(3),
		"pacer.gate.wait":            0.03,
		"pacer.gate.key":             "127.0.0.1",
		"pacer.schedule.wait":        0.015,
		"pacer.breaker.state":        "closed",
		"pacer.outcome":              "ok",
	}
	for k, w := range want {
		v, ok := spanAttr(logical, k)
		if !ok || v.AsInterface() != w {
			t.Errorf("logical %s = %v (present %v), want %v", k, v.AsInterface(), ok, w)
		}
	}
	if _, ok := spanAttr(logical, "gen_ai.request.stream"); ok {
		t.Error("gen_ai.request.stream set for a request without stream")
	}

	rm := s.metrics(t)
	if got := sumBy(t, findMetric(t, rm, "pacer.attempts"), "pacer.outcome"); got["rate_limited"] != 2 || got["ok"] != 1 {
		t.Errorf("pacer.attempts %v", got)
	}
	if got := sumBy(t, findMetric(t, rm, "pacer.requests"), "pacer.outcome"); got["ok"] != 1 || len(got) != 1 {
		t.Errorf("pacer.requests %v", got)
	}
	if got := sumBy(t, findMetric(t, rm, "pacer.retries"), "server.address"); got["127.0.0.1"] != 2 {
		t.Errorf("pacer.retries %v", got)
	}
	if c, _ := histBy(t, findMetric(t, rm, "http.client.request.duration"), "http.response.status_code"); c["429"] != 2 || c["200"] != 1 {
		t.Errorf("http.client.request.duration counts %v", c)
	}
	if c, sum := histBy(t, findMetric(t, rm, "gen_ai.client.token.usage"), "gen_ai.token.type"); c["input"] != 1 || sum["input"] != 12 || sum["output"] != 34 {
		t.Errorf("token usage counts %v sums %v", c, sum)
	}
	if c, _ := histBy(t, findMetric(t, rm, "gen_ai.client.operation.duration"), "gen_ai.request.model"); c["deepseek-chat"] != 1 {
		t.Errorf("operation duration %v", c)
	}
	if c, sum := histBy(t, findMetric(t, rm, "pacer.gate.wait"), "server.address"); c["127.0.0.1"] != 3 || !near(sum["127.0.0.1"], 0.03) {
		t.Errorf("gate wait %v %v", c, sum)
	}
	if c, sum := histBy(t, findMetric(t, rm, "pacer.schedule.wait"), "server.address"); c["127.0.0.1"] != 3 || !near(sum["127.0.0.1"], 0.015) {
		t.Errorf("schedule wait %v %v", c, sum)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestStreamUsageEndsWithBody(t *testing.T) {
	s := newSDK(t)
	api := newFakeAPI(t)
	api.content = strings.Repeat("long content ", 2000)
	tel := s.telemetry(Config{ProviderName: "deepseek"})
	rt := transport.Chain(nil, tel.Wrap, tel.WrapAttempt)

	req := newChatRequest(t, api.URL, `{"messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"model":"deepseek-reasoner"}`)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.spans.Ended()); n != 0 {
		t.Fatalf("%d spans ended when the headers arrived", n)
	}
	buf := make([]byte, 100)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	if n := len(s.spans.Ended()); n != 0 {
		t.Fatalf("%d spans ended in the middle of the stream", n)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	ended := s.spans.Ended()
	if len(ended) != 2 {
		t.Fatalf("%d spans ended at EOF, want 2", len(ended))
	}
	_ = resp.Body.Close()
	logical := ended[1]
	if logical.Name() != "chat deepseek-reasoner" {
		t.Fatalf("span %q", logical.Name())
	}
	want := map[attribute.Key]any{
		"gen_ai.provider.name":       "deepseek",
		"gen_ai.request.stream":      true,
		"gen_ai.response.model":      "deepseek-reasoner",
		"gen_ai.usage.input_tokens":  int64(5),
		"gen_ai.usage.output_tokens": int64(9),
	}
	for k, w := range want {
		if v, ok := spanAttr(logical, k); !ok || v.AsInterface() != w {
			t.Errorf("%s = %v (present %v), want %v", k, v.AsInterface(), ok, w)
		}
	}
	rm := s.metrics(t)
	if _, sum := histBy(t, findMetric(t, rm, "gen_ai.client.token.usage"), "gen_ai.token.type"); sum["input"] != 5 || sum["output"] != 9 {
		t.Errorf("token usage sums %v", sum)
	}
}

func TestStreamWithoutUsage(t *testing.T) {
	s := newSDK(t)
	api := newFakeAPI(t)
	tel := s.telemetry(Config{})
	resp, err := tel.Wrap(nil).RoundTrip(newChatRequest(t, api.URL, `{"model":"m","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	sp := s.spans.Ended()[0]
	if _, ok := spanAttr(sp, "gen_ai.usage.input_tokens"); ok {
		t.Error("input tokens recorded for a stream without usage")
	}
	if v, _ := spanAttr(sp, "gen_ai.response.model"); v.AsString() != "m" {
		t.Errorf("response model %q", v.AsString())
	}
}

func TestSecretsAbsent(t *testing.T) {
	const secret = "sk-SECRET0123456789"
	s := newSDK(t)
	api := newFakeAPI(t)
	tel := s.telemetry(Config{Gates: []GateStats{fakeGateStats{}}})
	defer tel.Close()
	rt := transport.Chain(nil, tel.Wrap, tel.WrapAttempt)

	u := strings.Replace(api.URL, "http://", "http://user:"+secret+"@", 1) +
		"/v1/chat/completions?api-key=" + secret + "&key=" + secret + "&Token=" + secret + "&sig=" + secret + "&x-goog-api-key=" + secret + ";jwt=" + secret + "&api-version=1"
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(`{"model":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Authorization", "api-key", "x-api-key", "Cookie", "Proxy-Authorization"} {
		req.Header.Set(h, "Bearer "+secret)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()

	// A failed request too: error messages may quote the URL.
	bad := strings.Replace(u, api.Listener.Addr().String(), "127.0.0.1:1", 1)
	req2, _ := http.NewRequest(http.MethodGet, bad, nil)
	req2.Header.Set("Authorization", "Bearer "+secret)
	if _, err := rt.RoundTrip(req2); err == nil {
		t.Fatal("request to a closed port succeeded")
	}

	spans := s.spans.Ended()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4", len(spans))
	}
	sawRedacted := false
	for _, sp := range spans {
		if v, ok := spanAttr(sp, "url.full"); ok && strings.Contains(v.AsString(), "key=REDACTED") && strings.Contains(v.AsString(), "api-version=1") {
			sawRedacted = true
		}
	}
	if !sawRedacted {
		t.Error("no url.full with redacted query")
	}
	if len(s.metrics(t).ScopeMetrics) == 0 {
		t.Fatal("no metrics")
	}
	assertNoSecret(t, s, secret)
}

func dataPointAttrs(d metricdata.Aggregation) []attribute.Set {
	var out []attribute.Set
	switch d := d.(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Histogram[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	}
	return out
}

type fakeGateStats struct{}

func (fakeGateStats) EachKey(fn func(key string, limit, inFlight, queued int)) {
	fn("api.deepseek.com", 8, 3, 2)
	fn("api.openai.com", 16, 0, 0)
}

func TestGateGauges(t *testing.T) {
	s := newSDK(t)
	tel := s.telemetry(Config{Gates: []GateStats{fakeGateStats{}, nil}})
	rm := s.metrics(t)
	for name, want := range map[string]map[string]int64{
		"pacer.gate.limit":     {"api.deepseek.com": 8, "api.openai.com": 16},
		"pacer.gate.in_flight": {"api.deepseek.com": 3, "api.openai.com": 0},
		"pacer.gate.queued":    {"api.deepseek.com": 2, "api.openai.com": 0},
	} {
		g, ok := findMetric(t, rm, name).Data.(metricdata.Gauge[int64])
		if !ok {
			t.Fatalf("%s is not an int64 gauge", name)
		}
		got := map[string]int64{}
		for _, dp := range g.DataPoints {
			v, _ := dp.Attributes.Value("pacer.gate.key")
			got[v.AsString()] = dp.Value
		}
		if len(got) != len(want) || got["api.deepseek.com"] != want["api.deepseek.com"] || got["api.openai.com"] != want["api.openai.com"] {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if err := tel.Close(); err != nil {
		t.Fatal(err)
	}
	for _, sm := range s.metrics(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if strings.HasPrefix(m.Name, "pacer.gate.") && m.Name != "pacer.gate.wait" {
				t.Errorf("%s still observed after Close", m.Name)
			}
		}
	}
}

// With nothing listening, the layers hand the caller's request and the
// base's response through untouched.
func TestNoProviderPassesThrough(t *testing.T) {
	tel := New(Config{}) // the global no-op providers
	var got *http.Request
	body := io.NopCloser(strings.NewReader("x"))
	base := transport.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: 200, Body: body, Header: http.Header{}, Request: r}, nil
	})
	rt := transport.Chain(base, tel.Wrap, tel.WrapAttempt)
	req := newChatRequest(t, "http://127.0.0.1:1", `{"model":"m"}`)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if got != req {
		t.Error("the request was copied")
	}
	if resp.Body != body {
		t.Error("the body was wrapped")
	}
	_ = resp.Body.Close()
}

func TestCloseEndsSpanAndBodyClosedOnce(t *testing.T) {
	s := newSDK(t)
	tel := s.telemetry(Config{})
	closes := 0
	base := transport.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		httpbody.CloseRequest(r)
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: &countingBody{Reader: strings.NewReader(`{"model":"m","usage":{"prompt_tokens":1,"completion_tokens":2}}`), closes: &closes}, Request: r}, nil
	})
	rt := transport.Chain(base, tel.Wrap, tel.WrapAttempt)
	req := newChatRequest(t, "http://127.0.0.1:1", `{"model":"m"}`)
	before := req.Header.Clone()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if closes != 1 {
		t.Errorf("base body closed %d times, want 1", closes)
	}
	spans := s.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans ended on Close, want 2", len(spans))
	}
	for _, sp := range spans {
		if sp.Status().Code == codes.Error {
			t.Errorf("%s: early close recorded as an error", sp.Name())
		}
	}
	if _, ok := spanAttr(spans[1], "gen_ai.usage.input_tokens"); ok {
		t.Error("usage recorded from a body the caller never read")
	}
	if len(req.Header) != len(before) || transport.RecordFrom(req.Context()) != nil {
		t.Error("the caller's request was modified")
	}
}

type countingBody struct {
	io.Reader
	closes *int
}

func (b *countingBody) Close() error { *b.closes++; return nil }

func TestErrorEndsSpans(t *testing.T) {
	s := newSDK(t)
	tel := s.telemetry(Config{})
	boom := errors.New("boom")
	base := transport.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		httpbody.CloseRequest(r)
		return nil, boom
	})
	rt := transport.Chain(base, tel.Wrap, tel.WrapAttempt)
	resp, err := rt.RoundTrip(newChatRequest(t, "http://127.0.0.1:1", `{"model":"m"}`))
	if resp != nil || !errors.Is(err, boom) {
		t.Fatalf("got %v, %v", resp, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:1/v1/models", nil)
	base2 := transport.RoundTripperFunc(func(r *http.Request) (*http.Response, error) { return nil, r.Context().Err() })
	_, _ = transport.Chain(base2, tel.Wrap, tel.WrapAttempt).RoundTrip(req)

	spans := s.spans.Ended()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4", len(spans))
	}
	wantType := []string{"network_error", "network_error", "canceled", "canceled"}
	wantName := []string{"POST", "chat m", "GET", "HTTP GET"}
	for i, sp := range spans {
		v, _ := spanAttr(sp, "error.type")
		if sp.Name() != wantName[i] || v.AsString() != wantType[i] || sp.Status().Code != codes.Error {
			t.Errorf("span %d: %q error.type %q status %v", i, sp.Name(), v.AsString(), sp.Status())
		}
	}
	if got := sumBy(t, findMetric(t, s.metrics(t), "pacer.requests"), "pacer.outcome"); got["network_error"] != 1 || got["canceled"] != 1 {
		t.Errorf("pacer.requests %v", got)
	}
}

// Without GetBody the request body is not read: all of it reaches the server.
func TestBodyWithoutGetBodyNotRead(t *testing.T) {
	s := newSDK(t)
	api := newFakeAPI(t)
	tel := s.telemetry(Config{})
	const body = `{"model":"m","messages":[]}`
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/v1/chat/completions", io.MultiReader(strings.NewReader(body)))
	if req.GetBody != nil {
		t.Fatal("test request has GetBody")
	}
	resp, err := tel.Wrap(nil).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	api.mu.Lock()
	got := api.bodies[0]
	api.mu.Unlock()
	if got != body {
		t.Errorf("server got %q", got)
	}
	sp := s.spans.Ended()[0]
	if sp.Name() != "chat" {
		t.Errorf("span %q", sp.Name())
	}
	if v, _ := spanAttr(sp, "gen_ai.response.model"); v.AsString() != "m" {
		t.Errorf("response model %q", v.AsString())
	}
}

// Without an attempt layer, the logical layer records the per-attempt
// measurements once.
func TestLogicalOnlyRecordsAttemptMetrics(t *testing.T) {
	s := newSDK(t)
	api := newFakeAPI(t)
	tel := s.telemetry(Config{})
	req, _ := http.NewRequest(http.MethodGet, api.URL+"/v1/models", nil)
	resp, err := tel.Wrap(nil).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if sp := s.spans.Ended(); len(sp) != 1 || sp[0].Name() != "HTTP GET" {
		t.Fatalf("spans %v", sp)
	}
	rm := s.metrics(t)
	if c, _ := histBy(t, findMetric(t, rm, "http.client.request.duration"), "http.request.method"); c["GET"] != 1 {
		t.Errorf("duration counts %v", c)
	}
	if got := sumBy(t, findMetric(t, rm, "pacer.attempts"), "pacer.outcome"); got["ok"] != 1 {
		t.Errorf("pacer.attempts %v", got)
	}
}

func TestConcurrentRequests(t *testing.T) {
	s := newSDK(t)
	api := newFakeAPI(t)
	tel := s.telemetry(Config{})
	client := &http.Client{Transport: transport.Chain(nil, tel.Wrap, tel.WrapAttempt)}
	defer client.CloseIdleConnections()
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func() {
			resp, err := client.Post(api.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","stream":true,"stream_options":{"include_usage":true}}`))
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if n := len(s.spans.Ended()); n != 16 {
		t.Errorf("%d spans, want 16", n)
	}
}

// The attempt layer works alone: it makes its own record, so facts written
// under it are still seen, and it records the per-attempt metrics.
func TestAttemptOnly(t *testing.T) {
	s := newSDK(t)
	api := newFakeAPI(t)
	tel := s.telemetry(Config{})
	rt := transport.Chain(nil, tel.WrapAttempt, fakeKeepalive)
	resp, err := rt.RoundTrip(newChatRequest(t, api.URL, `{"model":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	spans := s.spans.Ended()
	if len(spans) != 1 || spans[0].Name() != "POST" {
		t.Fatalf("spans %v", spans)
	}
	if v, _ := spanAttr(spans[0], "pacer.schedule.wait"); v.AsFloat64() != 0.005 {
		t.Errorf("schedule wait %v", v.AsFloat64())
	}
	if _, ok := spanAttr(spans[0], "http.request.resend_count"); ok {
		t.Error("resend_count on a first attempt")
	}
	if got := sumBy(t, findMetric(t, s.metrics(t), "pacer.attempts"), "pacer.outcome"); got["ok"] != 1 {
		t.Errorf("pacer.attempts %v", got)
	}
}

// Durations run from RoundTrip to the end of the body, read from the
// injected clock.
func TestDurationsUntilBodyDone(t *testing.T) {
	s := newSDK(t)
	api := newFakeAPI(t)
	tel := s.telemetry(Config{})
	advance := manualClock(tel)
	rt := transport.Chain(nil, tel.Wrap, tel.WrapAttempt)
	resp, err := rt.RoundTrip(newChatRequest(t, api.URL, `{"model":"m","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	advance(3 * time.Second) // reading the stream
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	rm := s.metrics(t)
	if _, sum := histBy(t, findMetric(t, rm, "gen_ai.client.operation.duration"), "gen_ai.request.model"); sum["m"] != 3 {
		t.Errorf("operation duration %v, want 3s", sum)
	}
	if _, sum := histBy(t, findMetric(t, rm, "http.client.request.duration"), "http.request.method"); sum["POST"] != 3 {
		t.Errorf("request duration %v, want 3s", sum)
	}
}

func TestNilTelemetry(t *testing.T) {
	var tel *Telemetry
	base := transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("x") })
	if tel.Close() != nil {
		t.Error("Close on nil")
	}
	for _, w := range []transport.Middleware{tel.Wrap, tel.WrapAttempt, new(Telemetry).Wrap} {
		if _, ok := w(base).(transport.RoundTripperFunc); !ok {
			t.Error("a nil Telemetry wrapped the transport")
		}
	}
}

// assertNoSecret fails if secret appears in any span name, status, attribute
// or event, or in any attribute of any metric data point.
func assertNoSecret(t *testing.T, s *sdk, secret string) {
	t.Helper()
	check := func(where, v string) {
		if strings.Contains(v, secret) {
			t.Errorf("secret in %s: %q", where, v)
		}
	}
	for _, sp := range s.spans.Ended() {
		check("span name", sp.Name())
		check("span status", sp.Status().Description)
		for _, kv := range sp.Attributes() {
			check(string(kv.Key), kv.Value.String())
		}
		for _, ev := range sp.Events() {
			check("event", ev.Name)
			for _, kv := range ev.Attributes {
				check(string(kv.Key), kv.Value.String())
			}
		}
	}
	for _, sm := range s.metrics(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, set := range dataPointAttrs(m.Data) {
				for _, kv := range set.ToSlice() {
					check(m.Name+" "+string(kv.Key), kv.Value.String())
				}
			}
		}
	}
}

// stallingBody is a body whose content stops: its Read marks the record as
// the keep-alive filter does and fails as a cut response.
type stallingBody struct{ rec *transport.Record }

func (b stallingBody) Read([]byte) (int, error) {
	b.rec.Update(func(f *transport.Facts) { f.Stalled = true })
	return 0, io.ErrUnexpectedEOF
}
func (stallingBody) Close() error { return nil }

// A response ended because its content stopped is recorded with error.type
// "stalled" on both spans and in the metrics, and pacer.stalled on the
// logical span.
func TestStallRecorded(t *testing.T) {
	s := newSDK(t)
	tel := s.telemetry(Config{})
	base := transport.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		httpbody.CloseRequest(r)
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
			Body: stallingBody{transport.RecordFrom(r.Context())}, Request: r}, nil
	})
	rt := transport.Chain(base, tel.Wrap, tel.WrapAttempt)
	resp, err := rt.RoundTrip(newChatRequest(t, "http://127.0.0.1:1", `{"model":"m","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read: %v", err)
	}
	resp.Body.Close()
	spans := s.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	for _, sp := range spans {
		if v, _ := spanAttr(sp, "error.type"); v.AsString() != "stalled" {
			t.Errorf("span %q: error.type %q, want stalled", sp.Name(), v.AsString())
		}
	}
	if v, ok := spanAttr(spans[1], "pacer.stalled"); !ok || !v.AsBool() {
		t.Errorf("logical span %q without pacer.stalled", spans[1].Name())
	}
	if c, _ := histBy(t, findMetric(t, s.metrics(t), "http.client.request.duration"), "error.type"); c["stalled"] != 1 {
		t.Errorf("http.client.request.duration by error.type %v", c)
	}
}
