package retry_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

func Example() {
	// A server that is rate limited on the first request and asks the
	// client to wait 5 milliseconds.
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("retry-after-ms", "5")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()

	r := retry.New(retry.Config{
		OnRetry: func(e retry.Event) {
			fmt.Printf("attempt %d: %d, %s after the %v the server asked for\n",
				e.Attempt, e.StatusCode, e.Decision, e.RetryAfter)
		},
	})
	client := &http.Client{Transport: r.Wrap(nil)}

	resp, err := client.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// attempt 1: 429, retrying after the 5ms the server asked for
	// 200 hello
}

func Example_lastResponse() {
	// When retries run out, the caller gets the server's last real
	// response, body intact, so an SDK can raise its own typed error.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":{"message":"Server overloaded"}}`)
	}))
	defer srv.Close()

	r := retry.New(retry.Config{MaxAttempts: 3, BaseDelay: time.Millisecond})
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req, rec := transport.EnsureRecord(req)
	resp, err := r.Wrap(nil).RoundTrip(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	fmt.Println("attempts:", rec.Facts().Attempts, "outcome:", rec.Facts().Outcome)
	// Output:
	// 503 {"error":{"message":"Server overloaded"}}
	// attempts: 3 outcome: overloaded
}

func ExampleParseRetryAfter() {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, h := range []http.Header{
		{"Retry-After": {"2"}},
		{"Retry-After": {"0.5"}},
		{"Retry-After-Ms": {"1500"}},
		{"Retry-After": {"Fri, 27 Nov 2026 12:01:30 GMT"}},
		{"Retry-After": {"Fri, 27 Nov 2026 12:01:30 GMT"}, "Date": {"Fri, 27 Nov 2026 12:01:00 GMT"}},
		{"Retry-After": {"soon"}},
	} {
		d, ok := retry.ParseRetryAfter(h, now)
		fmt.Println(d, ok)
	}
	// Output:
	// 2s true
	// 500ms true
	// 1.5s true
	// 1m30s true
	// 30s true
	// 0s false
}
