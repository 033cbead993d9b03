package llmtest_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pacerhttp/pacer/llmtest"
)

// walkLimits samples the account limit at the middle of each of n steps.
func walkLimits(t *testing.T, w llmtest.Walk, seed int64, n int) (lims []int, integral float64) {
	synctest.Test(t, func(t *testing.T) {
		h := llmtest.NewHandler(llmtest.Config{Walk: w, Seed: seed})
		defer h.Close()
		for range n {
			time.Sleep(w.Step / 2)
			lims = append(lims, h.Stats().Limit)
			time.Sleep(w.Step / 2)
		}
		integral = h.Stats().LimitIntegral
	})
	return lims, integral
}

func TestWalkSeededBoundedAndIntegrated(t *testing.T) {
	w := llmtest.Walk{Start: 100, Min: 20, Max: 400, Step: 100 * time.Millisecond, Sigma: 0.3}
	a, ia := walkLimits(t, w, 5, 200)
	b, _ := walkLimits(t, w, 5, 200)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different walks:\n%v\n%v", a, b)
	}
	if c, _ := walkLimits(t, w, 6, 200); slices.Equal(a, c) {
		t.Error("seeds 5 and 6 gave the same walk")
	}
	if a[0] != 100 {
		t.Errorf("walk starts at %d, want 100", a[0])
	}
	if lo, hi := slices.Min(a), slices.Max(a); lo < 20 || hi > 400 || hi-lo < 50 {
		t.Errorf("walk spans [%d, %d], want a move within [20, 400]", lo, hi)
	}
	var sum float64
	for _, l := range a {
		sum += float64(l) * w.Step.Seconds()
	}
	if d := ia - sum; d > 1e-6 || d < -1e-6 {
		t.Errorf("LimitIntegral %v, want the sum of the steps %v", ia, sum)
	}
}

func TestWalkAdmitsUpToItsLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := llmtest.NewHandler(llmtest.Config{
			Walk:        llmtest.Walk{Start: 7, Step: time.Hour},
			ServiceTime: time.Second,
		})
		defer h.Close()
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { serveChat(h, chatJSON) })
		}
		synctest.Wait()
		if st := h.Stats(); st.InFlight != 7 || st.RateLimited != 3 {
			t.Errorf("in flight %d, 429s %d; want 7 and 3", st.InFlight, st.RateLimited)
		}
		wg.Wait()
	})
}

func TestLargeLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 2500 // DeepSeek's documented limit for deepseek-v4-flash
		h := llmtest.NewHandler(llmtest.Config{Phases: []llmtest.Phase{{Limit: limit}}, ServiceTime: time.Second})
		defer h.Close()
		var wg sync.WaitGroup
		codes := make([]int, limit+3)
		for i := range codes {
			wg.Go(func() { codes[i] = serveChat(h, chatJSON).status })
		}
		synctest.Wait()
		if st := h.Stats(); st.InFlight != limit || st.PeakInFlight != limit || st.RateLimited != 3 {
			t.Errorf("in flight %d, peak %d, 429s %d; want %d, %d, 3", st.InFlight, st.PeakInFlight, st.RateLimited, limit, limit)
		}
		wg.Wait()
		n := 0
		for _, c := range codes {
			if c == http.StatusOK {
				n++
			}
		}
		if n != limit {
			t.Errorf("%d answered 200, want %d", n, limit)
		}
	})
}

func TestModelLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := llmtest.NewHandler(llmtest.Config{
			Phases:      []llmtest.Phase{{Limit: 2}},
			Models:      map[string]llmtest.ModelLimit{"deepseek-v4-flash": {Phases: []llmtest.Phase{{Limit: 5}}}},
			ServiceTime: time.Second,
		})
		defer h.Close()
		flash := `{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"hi"}]}`
		pro := `{"model":"deepseek-v4-pro","messages":[{"role":"user","content":"hi"}]}`
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { serveChat(h, flash) })
			wg.Go(func() { serveChat(h, pro) })
		}
		synctest.Wait()
		st := h.Stats()
		m := st.Models["deepseek-v4-flash"]
		if m.InFlight != 5 || m.Limit != 5 || st.InFlight != 2 || st.Limit != 2 || st.RateLimited != 3+6 {
			t.Errorf("flash %+v; account in flight %d limit %d; 429s %d", m, st.InFlight, st.Limit, st.RateLimited)
		}
		wg.Wait()
		if st := h.Stats(); st.Models["deepseek-v4-flash"].InFlight != 0 || st.InFlight != 0 {
			t.Errorf("left in flight: %+v", st)
		}
	})
}

func BenchmarkAdmitAtLimit(b *testing.B) {
	// The cost of a request must not grow with the limit or the number in
	// flight: compare the two sizes.
	for _, n := range []int{16, 4096} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			h := llmtest.NewHandler(llmtest.Config{Phases: []llmtest.Phase{{Limit: n}}, ServiceTime: -1})
			defer h.Close()
			b.ReportAllocs()
			for b.Loop() {
				h.Script(llmtest.RateLimit)
				serveChat(h, chatJSON)
			}
		})
	}
}

func ExampleWalk() {
	s := llmtest.NewServer(llmtest.Config{
		// A limit moving by about 20% every 2s between 100 and 1000, and
		// a second model with a fixed limit of its own.
		Walk:   llmtest.Walk{Start: 500, Min: 100, Max: 1000, Step: 2 * time.Second},
		Models: map[string]llmtest.ModelLimit{"deepseek-v4-flash": {Phases: []llmtest.Phase{{Limit: 2500}}}},
		Seed:   1,
	})
	defer s.Close()
	st := s.Stats()
	fmt.Println(st.Limit, st.Models["deepseek-v4-flash"].Limit)
	// Output:
	// 500 2500
}
