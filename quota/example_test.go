package quota_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pacerhttp/pacer/quota"
)

// A server allowing two requests per window says so in its headers; the
// layer sends the first two, and a third request waits for the window to
// reset, here until its context's deadline ends the wait.
func Example() {
	var used atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := used.Add(1)
		w.Header().Set("x-ratelimit-limit-requests", "2")
		w.Header().Set("x-ratelimit-remaining-requests", fmt.Sprint(max(2-n, 0)))
		w.Header().Set("x-ratelimit-reset-requests", "30s")
		if n > 2 {
			w.WriteHeader(http.StatusTooManyRequests)
		}
		fmt.Fprint(w, `{"usage":{"prompt_tokens":3,"completion_tokens":5}}`)
	}))
	defer srv.Close()

	q := quota.New(quota.Config{QueueTimeout: 50 * time.Millisecond})
	client := &http.Client{Transport: q.Wrap(nil)}
	for i := range 3 {
		resp, err := client.Post(srv.URL+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"gpt-4o-mini","max_tokens":16,"messages":[]}`))
		if err != nil {
			fmt.Println(i, "not sent:", strings.Contains(err.Error(), "quota: queue timeout"))
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println(i, resp.StatusCode)
	}
	st := q.Stats().Keys[0]
	fmt.Println(strings.HasSuffix(st.Key, " gpt-4o-mini"), st.Requests.Limit, st.Requests.Remaining)
	fmt.Println("server saw", used.Load())
	// Output:
	// 0 200
	// 1 200
	// 2 not sent: true
	// true 2 0
	// server saw 2
}
