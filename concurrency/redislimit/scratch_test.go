package redislimit_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/llmtest"
)

func TestScratchLocal(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{ServiceTime: 10 * time.Millisecond, Phases: []llmtest.Phase{{Limit: 6, Duration: time.Hour}}})
	defer srv.Close()
	gate := concurrency.New(concurrency.Config{})
	c := &http.Client{Transport: gate.Wrap(nil)}
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for sent.Add(1) <= 600 {
				_ = chat(c, srv.URL())
			}
		})
	}
	wg.Wait()
	st := srv.Stats()
	t.Logf("%d requests, %d completed, %d 429s, limit %v", st.Requests, st.Completed, st.RateLimited, gate.Stats().Keys)
}
