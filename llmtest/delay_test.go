package llmtest_test

import (
	"fmt"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pacerhttp/pacer/llmtest"
)

func TestOneWayDelayOnEveryAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := llmtest.NewHandler(llmtest.Config{
			ServiceTime: 100 * time.Millisecond,
			OneWayDelay: llmtest.Delay{Min: 10 * time.Millisecond, Max: 10 * time.Millisecond},
		})
		defer h.Close()
		if rec := serveChat(h, chatJSON); rec.status != http.StatusOK || rec.end() != 120*time.Millisecond {
			t.Errorf("200: status %d at %v, want 200 at 120ms", rec.status, rec.end())
		}
		for _, b := range []llmtest.Behavior{llmtest.RateLimit, llmtest.Overload} {
			h.Script(b)
			if rec := serveChat(h, chatJSON); rec.end() != 20*time.Millisecond {
				t.Errorf("%v: status %d at %v, want a round trip of 20ms", b, rec.status, rec.end())
			}
		}
		if rec := serveChat(h, `{`); rec.status != http.StatusBadRequest || rec.end() != 20*time.Millisecond {
			t.Errorf("400: status %d at %v, want 400 at 20ms", rec.status, rec.end())
		}
	})
}

// roundTrips returns the round trips of n quick 429s under cfg.
func roundTrips(t *testing.T, cfg llmtest.Config, n int) []time.Duration {
	var out []time.Duration
	synctest.Test(t, func(t *testing.T) {
		h := llmtest.NewHandler(cfg)
		defer h.Close()
		for range n {
			h.Script(llmtest.RateLimit)
			out = append(out, serveChat(h, chatJSON).end())
		}
	})
	return out
}

func TestOneWayDelayUniformAndSeeded(t *testing.T) {
	cfg := llmtest.Config{Seed: 3, OneWayDelay: llmtest.Delay{Min: time.Millisecond, Max: 5 * time.Millisecond}}
	a, b := roundTrips(t, cfg, 50), roundTrips(t, cfg, 50)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different delays:\n%v\n%v", a, b)
	}
	distinct := map[time.Duration]bool{}
	for _, d := range a {
		if d < 2*time.Millisecond || d > 10*time.Millisecond {
			t.Errorf("round trip %v outside [2ms, 10ms]", d)
		}
		distinct[d] = true
	}
	if len(distinct) < 10 {
		t.Errorf("only %d distinct round trips in %v", len(distinct), a)
	}
	cfg.Seed = 4
	if c := roundTrips(t, cfg, 50); fmt.Sprint(c) == fmt.Sprint(a) {
		t.Error("seeds 3 and 4 gave the same delays")
	}
}

func TestOneWayDelayDraw(t *testing.T) {
	var us []float64
	cfg := llmtest.Config{OneWayDelay: llmtest.Delay{Draw: func(u float64) time.Duration {
		us = append(us, u) // sequential requests only
		return time.Duration(u * float64(time.Second))
	}}}
	rt := roundTrips(t, cfg, 3)
	if len(us) != 6 {
		t.Fatalf("Draw called %d times for 3 requests, want 6", len(us))
	}
	for i, d := range rt {
		want := time.Duration(us[2*i]*float64(time.Second)) + time.Duration(us[2*i+1]*float64(time.Second))
		if d != want {
			t.Errorf("request %d: round trip %v, want %v", i, d, want)
		}
	}
}

func ExampleDelay() {
	s := llmtest.NewServer(llmtest.Config{
		ServiceTime: 50 * time.Millisecond,
		// 10 to 20ms on the way there and again on the way back, on every
		// answer, 429s and 503s included.
		OneWayDelay: llmtest.Delay{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond},
		Seed:        1,
	})
	defer s.Close()
	start := time.Now()
	resp, err := s.Client().Post(s.URL()+"/chat/completions", "application/json", stringsReader(chatJSONExample))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, time.Since(start) >= 70*time.Millisecond)
	// Output:
	// 200 true
}
