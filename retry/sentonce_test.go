package retry

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// A 429 that says the account is out of credit is sent once and returned
// with its body intact; the request's outcome says why.
func TestQuotaExhaustedIsFinal(t *testing.T) {
	const body = `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`
	var calls atomic.Int32
	base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		calls.Add(1)
		return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	})
	req, rec := transport.EnsureRecord(mustNewRequest(t, "http://api.example.test/v1/chat/completions"))
	resp, err := New(Config{BaseDelay: time.Millisecond}).Wrap(base).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || string(got) != body {
		t.Fatalf("%d %q, want the 429 intact", resp.StatusCode, got)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	if f := rec.Facts(); f.Outcome != transport.QuotaExhausted || f.Attempts != 1 {
		t.Errorf("facts %+v", f)
	}
	if DefaultShouldRetry(transport.QuotaExhausted, resp, nil) || !DefaultShouldRetry(transport.RateLimited, resp, nil) {
		t.Errorf("DefaultShouldRetry retries out of credit, or not a plain 429")
	}
}

func mustNewRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// A request whose body is shorter than its ContentLength fails in net/http
// the same way on every attempt: it is sent once.
func TestWrongContentLengthSentOnce(t *testing.T) {
	srv := newScriptServer(t)
	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("short"))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 100
	body := []byte("short")
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(body))), nil }
	r, s := newTestRetrier(Config{})
	resp, err := r.Wrap(nil).RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want net/http's error", resp.StatusCode)
	}
	var re *Error
	if !errors.As(err, &re) || re.Attempts != 1 || len(s.get()) != 0 {
		t.Errorf("err %v (attempts %v), slept %v; want one attempt and no sleep", err, re, s.get())
	}
}
