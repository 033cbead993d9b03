package concurrency_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/llmtest"
)

// TestAdaptiveFollowsStep runs callers that always have work against a
// fake API whose limit steps 16 → 6 → 24, and checks, with generous
// bounds, that the learned limit is near each level by the end of its
// phase (about 30 round trips after the step).
func TestAdaptiveFollowsStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about two seconds")
	}
	const phase = 600 * time.Millisecond
	srv := llmtest.NewServer(llmtest.Config{
		Phases:      []llmtest.Phase{{Limit: 16, Duration: phase}, {Limit: 6, Duration: phase}, {Limit: 24, Duration: phase}},
		ServiceTime: 20 * time.Millisecond,
		Seed:        1,
	})
	defer srv.Close()
	g := concurrency.New(concurrency.Config{})
	base := &http.Transport{MaxIdleConnsPerHost: 64}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: g.Wrap(base)}
	url := srv.URL() + "/chat/completions"
	body := []byte(`{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}`)

	ctx, cancel := context.WithTimeout(context.Background(), 3*phase)
	defer cancel()
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() { callUntilDone(ctx, client, url, body, 5*time.Millisecond) })
	}

	// Sample the learned limit over the last third of each phase.
	start := time.Now()
	type window struct {
		from, to time.Duration
		lo, hi   int
	}
	windows := []window{
		{2 * phase / 3, phase, 8, 24},
		{phase + 2*phase/3, 2 * phase, 2, 12},
		{2*phase + 2*phase/3, 3*phase - 20*time.Millisecond, 12, 36},
	}
	for _, w := range windows {
		time.Sleep(time.Until(start.Add(w.from)))
		var sum, n int
		for time.Since(start) < w.to {
			s, _ := g.Stats().Key(srv.URL()[len("http://"):len(srv.URL())-len("/v1")] + " deepseek-chat")
			sum += s.Limit
			n++
			time.Sleep(5 * time.Millisecond)
		}
		if n == 0 {
			continue
		}
		if mean := sum / n; mean < w.lo || mean > w.hi {
			t.Errorf("mean limit %d over [%v, %v), want within [%d, %d]", mean, w.from, w.to, w.lo, w.hi)
		} else {
			t.Logf("mean limit %d over [%v, %v)", mean, w.from, w.to)
		}
	}
	wg.Wait()
	st := srv.Stats()
	t.Logf("server: %d requests, %d completed, %d 429s, peak in flight %d", st.Requests, st.Completed, st.RateLimited, st.PeakInFlight)
	if st.RateLimited*10 > st.Requests {
		t.Errorf("%d of %d requests got 429, want under 10%%", st.RateLimited, st.Requests)
	}
	if s := g.Stats(); s.InFlight != 0 || s.Queued != 0 {
		t.Errorf("after the run: %d in flight, %d queued", s.InFlight, s.Queued)
	}
}

// TestModelsLearnTheirOwnLimits runs callers of two models, whose limits
// are 4 and 16, through one default gate against one host, and checks
// that the gate keys them apart and learns each limit: the model with the
// higher limit is not held down by the other's 429s.
func TestModelsLearnTheirOwnLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about a second")
	}
	srv := llmtest.NewServer(llmtest.Config{
		Models: map[string]llmtest.ModelLimit{
			"small": {Phases: []llmtest.Phase{{Limit: 4, Duration: time.Hour}}},
			"large": {Phases: []llmtest.Phase{{Limit: 16, Duration: time.Hour}}},
		},
		ServiceTime: 20 * time.Millisecond,
		Seed:        1,
	})
	defer srv.Close()
	g := concurrency.New(concurrency.Config{})
	base := &http.Transport{MaxIdleConnsPerHost: 64}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: g.Wrap(base)}
	url := srv.URL() + "/chat/completions"

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 48 {
		model := "small"
		if i%2 == 1 {
			model = "large"
		}
		body := []byte(`{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`)
		wg.Go(func() { callUntilDone(ctx, client, url, body, 0) })
	}
	wg.Wait()

	host := srv.URL()[len("http://") : len(srv.URL())-len("/v1")]
	st := g.Stats()
	small, okSmall := st.Key(host + " small")
	large, okLarge := st.Key(host + " large")
	if !okSmall || !okLarge || len(st.Keys) != 2 {
		t.Fatalf("gate keys %+v, want %q and %q", st.Keys, host+" small", host+" large")
	}
	if small.Limit < 3 || small.Limit > 6 || large.Limit < 12 || large.Limit > 24 {
		t.Errorf("learned limits small %d, large %d; want near 4 and 16", small.Limit, large.Limit)
	}
	s := srv.Stats()
	if share := float64(s.RateLimited) / float64(s.Requests); share > 0.05 {
		t.Errorf("429s %d of %d requests (%.1f%%), want at most 5%%", s.RateLimited, s.Requests, 100*share)
	}
}

// callUntilDone sends body to url again and again until ctx ends, reading
// each answer to its end, and sleeps backoff after a 429 (none when zero),
// as a caller with work always waiting does.
func callUntilDone(ctx context.Context, client *http.Client, url string, body []byte, backoff time.Duration) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && backoff > 0 {
			time.Sleep(backoff)
		}
	}
}
