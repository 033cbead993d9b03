package quota

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestPacesUnderWindows sends 400 requests from 32 callers through the
// layer to a server allowing 40 requests per second, then one allowing 2000
// tokens per second (each request costs about 100), with a few milliseconds each way and 40 ms of
// service. The first burst goes before any header was seen and may meet
// 429s; after the first window none may, and the run must take no longer
// than the windows require.
func TestPacesUnderWindows(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reqLimit int64
		tokLimit int64
		want     time.Duration // the windows' bound on the run
	}{
		{"requests", 40, 0, 10 * time.Second},
		{"tokens", 1000, 2000, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &fakeServer{period: time.Second, reqLimit: tc.reqLimit, tokLimit: tc.tokLimit, latency: 3 * time.Millisecond, service: 40 * time.Millisecond, usage: 50}
				q := New(Config{})
				rt := q.Wrap(s)
				const callers, total = 32, 400
				var next atomic.Int64
				var wg sync.WaitGroup
				var failed atomic.Int64
				start := time.Now()
				for range callers {
					wg.Go(func() {
						for next.Add(1) <= total {
							// A retry after a 429, as the retry layer above
							// would, so that every request succeeds.
							for {
								code, err := do(t, rt, sized(t, 300, 25))
								if err != nil {
									failed.Add(1)
									return
								}
								if code == http.StatusOK {
									break
								}
							}
						}
					})
				}
				wg.Wait()
				took := time.Since(start)
				if f := failed.Load(); f != 0 {
					t.Fatalf("%d requests failed", f)
				}
				if ok := s.ok.Load(); ok != total {
					t.Fatalf("%d successes, want %d", ok, total)
				}
				// The first burst goes before the server has said a word;
				// after the first window, no request may meet a 429.
				if l := s.lateLimited.Load(); l > 0 {
					t.Errorf("%d 429s after the first window, %d in all, in %d attempts", l, s.limited.Load(), s.sent.Load())
				}
				if took > tc.want+time.Second {
					t.Errorf("took %v, the windows allow it in %v", took, tc.want)
				}
				t.Logf("%d attempts, %d 429s, %v (windows allow %v)", s.sent.Load(), s.limited.Load(), took, tc.want)
			})
		})
	}
}

// sized returns a chat request of about size bytes with max_tokens.
func sized(t testing.TB, size, maxTokens int) *http.Request {
	t.Helper()
	pad := max(size-60, 0)
	body := fmt.Sprintf(`{"model":"m","max_tokens":%d,"messages":[{"content":%q}]}`, maxTokens, bytes.Repeat([]byte("a"), pad))
	req, err := http.NewRequest(http.MethodPost, "http://api.test/v1/chat/completions", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}
