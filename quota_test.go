package pacer_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/quota"
	"github.com/pacerhttp/pacer/transport"
)

// windowServer announces a window of one request that is spent and resets
// in 30 s, as OpenAI's headers would.
func windowServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.Copy(io.Discard, r.Body)
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("x-ratelimit-limit-requests", "1")
		h.Set("x-ratelimit-remaining-requests", "0")
		h.Set("x-ratelimit-reset-requests", "30s")
		io.WriteString(w, `{"choices":[]}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func post(ctx context.Context, rt http.RoundTripper, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"model":"m1","max_tokens":8}`))
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// The default stack holds a request that the announced window cannot take,
// instead of sending it into a 429; the wait ends with the caller's
// context, as a rejection that neither retry nor the breaker counts.
func TestQuotaLayerInDefaultStack(t *testing.T) {
	srv, sent := windowServer(t)
	st := pacer.New(pacer.Config{Breaker: breaker.Config{}})
	defer st.CloseIdleConnections()
	if st.Quota == nil {
		t.Fatal("Config{} left the quota layer out")
	}
	if err := post(context.Background(), st, srv.URL); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		err := post(ctx, st, srv.URL)
		cancel()
		var we *quota.WaitError
		if !errors.As(err, &we) || !errors.Is(err, quota.ErrWaitCanceled) || !errors.Is(err, transport.ErrRejected) {
			t.Fatalf("error %v, want a *quota.WaitError matching ErrWaitCanceled and transport.ErrRejected", err)
		}
	}
	if got := sent.Load(); got != 1 {
		t.Errorf("server saw %d requests, want 1: the spent window's requests were sent", got)
	}
	if s := st.Breaker.State(); s != breaker.Closed {
		t.Errorf("breaker %v after local waits, want closed", s)
	}
	key := strings.TrimPrefix(srv.URL, "http://") + " m1"
	if ks, ok := st.Quota.Stats().Key(key); !ok || !ks.Requests.Known || ks.Requests.Limit != 1 {
		t.Errorf("quota stats for %q: %+v (found %v), want the announced limit 1", key, ks, ok)
	}
}

// Without: LayerQuota leaves the layer out, and the request goes through.
func TestWithoutQuota(t *testing.T) {
	srv, sent := windowServer(t)
	st := pacer.New(pacer.Config{Without: pacer.LayerQuota})
	defer st.CloseIdleConnections()
	if st.Quota != nil {
		t.Fatal("Without: LayerQuota left the layer in")
	}
	for range 2 {
		if err := post(context.Background(), st, srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	if got := sent.Load(); got != 2 {
		t.Errorf("server saw %d requests, want 2", got)
	}
}

// A Gate.Key reaches the quota layer too, so both layers speak of one key.
func TestQuotaSharesGateKey(t *testing.T) {
	srv, _ := windowServer(t)
	st := pacer.New(pacer.Config{Gate: concurrency.Config{Key: func(*http.Request) string { return "account-a" }}})
	defer st.CloseIdleConnections()
	if err := post(context.Background(), st, srv.URL); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Quota.Stats().Key("account-a"); !ok {
		t.Errorf("quota keys %+v, want the gate's key account-a", st.Quota.Stats().Keys)
	}
	if _, ok := st.Gate.Stats().Key("account-a"); !ok {
		t.Errorf("gate has no key account-a")
	}
}

// The default base keeps an idle pool large enough for the limits
// providers publish, per host and in all.
func TestDefaultBaseIdlePool(t *testing.T) {
	tr, ok := pacer.NewBase().(*http.Transport)
	if !ok {
		t.Fatalf("base is %T, want *http.Transport", pacer.NewBase())
	}
	if tr.MaxIdleConnsPerHost != pacer.DefaultMaxIdleConnsPerHost || tr.MaxIdleConns != pacer.DefaultMaxIdleConns {
		t.Errorf("idle pool %d per host, %d in all; want %d and %d", tr.MaxIdleConnsPerHost, tr.MaxIdleConns, pacer.DefaultMaxIdleConnsPerHost, pacer.DefaultMaxIdleConns)
	}
	if pacer.DefaultMaxIdleConnsPerHost < 2500 || pacer.DefaultMaxIdleConns < pacer.DefaultMaxIdleConnsPerHost {
		t.Errorf("idle pool bounds %d/%d below DeepSeek's largest documented limit 2500", pacer.DefaultMaxIdleConnsPerHost, pacer.DefaultMaxIdleConns)
	}
	if tr.IdleConnTimeout <= 0 {
		t.Error("idle connections are never closed")
	}
}
