package llmtest_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pacerhttp/pacer/llmtest"
)

func TestStreamFirstChunkEarlyRestSpread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := llmtest.NewHandler(llmtest.Config{ServiceTime: time.Second, StreamChunks: 4})
		defer h.Close()
		rec := serveChat(h, chatStreamJSON)
		var at []time.Duration
		for _, w := range rec.writes {
			at = append(at, w.at)
		}
		// 3% of the second, then the other three chunks evenly over the
		// remaining 970ms, the last one with the finish and [DONE].
		want := []time.Duration{30 * time.Millisecond, 30*time.Millisecond + 970*time.Millisecond/3,
			30*time.Millisecond + 2*970*time.Millisecond/3, time.Second}
		if !slices.Equal(at, want) {
			t.Errorf("writes at %v, want %v", at, want)
		}
		if !strings.Contains(rec.writes[0].data, `"content":"Hello"`) || !strings.HasSuffix(rec.body(), "data: [DONE]\n\n") {
			t.Errorf("first write %q, body %q", rec.writes[0].data, rec.body())
		}
	})
}

func TestStreamFirstChunkShareConfigured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := llmtest.NewHandler(llmtest.Config{ServiceTime: time.Second, StreamChunks: 1, FirstChunkShare: 0.2})
		defer h.Close()
		rec := serveChat(h, chatStreamJSON)
		if len(rec.writes) != 2 || rec.writes[0].at != 200*time.Millisecond || rec.end() != time.Second {
			t.Errorf("writes %+v, want the chunk at 200ms and the finish at 1s", rec.writes)
		}
	})
}

// answerTimes returns the service times of n sequential JSON answers.
func answerTimes(t *testing.T, cfg llmtest.Config, n int) []time.Duration {
	var out []time.Duration
	synctest.Test(t, func(t *testing.T) {
		h := llmtest.NewHandler(cfg)
		defer h.Close()
		for range n {
			out = append(out, serveChat(h, chatJSON).end())
		}
	})
	return out
}

func TestAnswerTimeLogNormal(t *testing.T) {
	cfg := llmtest.Config{Seed: 9, AnswerTime: llmtest.AnswerTime{Median: 100 * time.Millisecond, Sigma: 1}}
	a := answerTimes(t, cfg, 401)
	if b := answerTimes(t, cfg, 401); !slices.Equal(a, b) {
		t.Fatal("same seed, different answer times")
	}
	s := slices.Sorted(slices.Values(a))
	if med := s[200]; med < 80*time.Millisecond || med > 125*time.Millisecond {
		t.Errorf("median %v, want about 100ms", med)
	}
	// Sigma 1: the 99th percentile is about 10 times the median.
	if p99 := s[396]; p99 < 500*time.Millisecond {
		t.Errorf("p99 %v, want a heavy tail beyond 500ms", p99)
	}
	cfg.AnswerTime.Max = 300 * time.Millisecond
	if c := answerTimes(t, cfg, 401); slices.Max(c) != 300*time.Millisecond {
		t.Errorf("max %v with Max 300ms", slices.Max(c))
	}
}

func TestAnswerTimeStreamLastsTheDraw(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := llmtest.Config{Seed: 2, AnswerTime: llmtest.AnswerTime{Median: time.Second, Sigma: 0.5}}
		h := llmtest.NewHandler(cfg)
		defer h.Close()
		want := serveChat(h, chatJSON).end() // the first draw
		h2 := llmtest.NewHandler(cfg)
		defer h2.Close()
		rec := serveChat(h2, chatStreamJSON)
		if rec.end() != want || rec.writes[0].at != time.Duration(0.03*float64(want)) {
			t.Errorf("stream ends at %v with first chunk at %v, want end %v", rec.end(), rec.writes[0].at, want)
		}
	})
}

func ExampleAnswerTime() {
	at := llmtest.AnswerTime{Median: 450 * time.Millisecond, Sigma: 0.5}
	s := llmtest.NewServer(llmtest.Config{
		Phases:     []llmtest.Phase{{Limit: 500}},
		AnswerTime: at,
		Seed:       1,
	})
	defer s.Close()
	// The ideal goodput of a limit L is L divided by the mean answer time.
	fmt.Printf("mean %v, ideal %.0f/s\n", at.Mean().Round(time.Millisecond), 500/at.Mean().Seconds())
	// Output:
	// mean 510ms, ideal 981/s
}
