package breaker

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/transport"
)

func TestOpenShedsBackgroundAndFallsBackInteractive(t *testing.T) {
	primary, secondary := newStatusServer(t), newStatusServer(t)
	fbBase := &http.Transport{}
	t.Cleanup(fbBase.CloseIdleConnections)
	fb, err := Retarget(fbBase, Target{BaseURL: secondary.URL + "/v1", APIKey: "fallback-key", Model: "gpt-4o-mini"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Fallback = fb
	b, _ := newTestBreaker(cfg)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	rt := b.Wrap(base)

	send := func(p transport.Priority, url string) (*http.Response, transport.Facts, *countingBody, error) {
		rec := new(transport.Record)
		ctx := transport.ContextWithRecord(transport.WithPriority(context.Background(), p), rec)
		body := newCountingBody(`{"model":"deepseek-chat","messages":[]}`)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
		req.Header.Set("Authorization", "Bearer primary-key")
		snap := snapshot(req)
		resp, err := rt.RoundTrip(req)
		if resp != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		if got := snapshot(req); got != snap {
			t.Fatalf("caller's request changed:\n%s\n%s", snap, got)
		}
		return resp, rec.Facts(), body, err
	}

	for range 4 {
		resp, _, _, err := send(transport.Background, primary.url(503))
		if err != nil || resp.StatusCode != 503 {
			t.Fatalf("opening: %v", err)
		}
	}
	before := primary.requests.Load()

	// Background: shed, body closed once, nothing sent anywhere.
	resp, f, body, err := send(transport.Background, primary.url(200))
	if resp != nil || !errors.Is(err, ErrOpen) {
		t.Fatalf("background while open: %v, %v; want ErrOpen", resp, err)
	}
	if n := body.closes.Load(); n != 1 {
		t.Fatalf("refused request body closed %d times, want 1", n)
	}
	if f.BreakerState != "open" || f.Fallback {
		t.Fatalf("background facts: %q, fallback %v", f.BreakerState, f.Fallback)
	}
	if secondary.requests.Load() != 0 {
		t.Fatal("background request reached the fallback")
	}

	// Interactive: served by the fallback.
	resp, f, body, err = send(transport.Interactive, primary.url(200))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("interactive while open: %v, %v", resp, err)
	}
	if f.BreakerState != "open" || !f.Fallback {
		t.Fatalf("interactive facts: %q, fallback %v; want open, true", f.BreakerState, f.Fallback)
	}
	if n := body.closes.Load(); n != 1 {
		t.Fatalf("fallback request body closed %d times, want 1", n)
	}
	if got := primary.requests.Load(); got != before {
		t.Fatalf("primary saw %d requests while open", got-before)
	}
	if got := secondary.requests.Load(); got != 1 {
		t.Fatalf("fallback saw %d requests, want 1", got)
	}

	for _, a := range primary.authorizations() {
		if a != "Bearer primary-key" {
			t.Fatalf("primary got Authorization %q", a)
		}
	}
	for _, a := range secondary.authorizations() {
		if a != "Bearer fallback-key" {
			t.Fatalf("fallback got Authorization %q", a)
		}
	}
}

func TestRefusedNilAndNoBody(t *testing.T) {
	b, _ := newTestBreaker(testConfig())
	rt := b.Wrap(transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		httpbody.CloseRequest(req)
		return &http.Response{StatusCode: 503, Body: io.NopCloser(strings.NewReader("busy")), Request: req}, nil
	}))
	for range 4 {
		req, _ := http.NewRequest(http.MethodGet, "http://api.example/", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		httpbody.DiscardResponse(resp)
	}
	for _, body := range []io.ReadCloser{nil, http.NoBody} {
		req, _ := http.NewRequest(http.MethodGet, "http://api.example/", nil)
		req.Body = body
		resp, err := rt.RoundTrip(req)
		if resp != nil || !errors.Is(err, ErrOpen) {
			t.Fatalf("body %v: %v, %v; want ErrOpen", body, resp, err)
		}
	}
}

func TestPassesBodyOwnershipToBase(t *testing.T) {
	b, _ := newTestBreaker(testConfig())
	srv := newStatusServer(t)
	c := newClient(t, b)
	body := newCountingBody(`{"model":"m"}`)
	req, _ := http.NewRequest(http.MethodPost, srv.url(200), body)
	req.Header.Set("Authorization", "Bearer k")
	snap := snapshot(req)
	resp, err := c.Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if snapshot(req) != snap {
		t.Fatal("caller's request changed")
	}
	if n := body.closes.Load(); n != 1 {
		t.Fatalf("body closed %d times, want 1", n)
	}
}

type idleCounter struct {
	http.RoundTripper
	n int
}

func (c *idleCounter) CloseIdleConnections() { c.n++ }

func TestCloseIdleConnectionsForwarded(t *testing.T) {
	base, fbBase := &idleCounter{}, &idleCounter{}
	fb, err := Retarget(fbBase, Target{BaseURL: "http://fallback.example/v1"})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: New(Config{Fallback: fb}).Wrap(base)}
	c.CloseIdleConnections()
	if base.n != 1 || fbBase.n != 1 {
		t.Fatalf("CloseIdleConnections reached base %d, fallback %d times; want 1, 1", base.n, fbBase.n)
	}
}
