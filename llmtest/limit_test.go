package llmtest_test

import (
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/llmtest"
)

func hammer(t *testing.T, s *llmtest.Server, workers, each int, body string) {
	t.Helper()
	tr := newTransport()
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				r := do(t, c, s, body)
				if r.err != nil || r.readErr != nil {
					t.Errorf("request: %v %v", r.err, r.readErr)
					return
				}
				if r.status != http.StatusOK && r.status != http.StatusTooManyRequests {
					t.Errorf("status %d", r.status)
				}
			}
		})
	}
	wg.Wait()
}

func TestNeverMoreThanLimitInFlight(t *testing.T) {
	for _, stream := range []bool{false, true} {
		s := llmtest.NewServer(llmtest.Config{
			Phases:      []llmtest.Phase{{Limit: 4}},
			ServiceTime: 3 * time.Millisecond,
		})
		body := chatJSON
		if stream {
			body = chatStreamJSON
		}
		hammer(t, s, 24, 25, body)
		st := s.Stats()
		s.Close()
		if st.PeakInFlight > 4 || st.PeakInFlight == 0 {
			t.Errorf("stream=%v: peak in flight %d, limit 4", stream, st.PeakInFlight)
		}
		if st.RateLimited == 0 {
			t.Errorf("stream=%v: no 429 with 24 workers against a limit of 4", stream)
		}
		if st.Completed+st.RateLimited != st.Requests || st.Requests != 24*25 {
			t.Errorf("stream=%v: stats %+v", stream, st)
		}
		if st.InFlight != 0 {
			t.Errorf("stream=%v: %d still in flight", stream, st.InFlight)
		}
	}
}

func TestPhasesChangeLimit(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{
		Phases: []llmtest.Phase{
			{Limit: 2, Duration: 15 * time.Millisecond},
			{Limit: 5, Duration: 15 * time.Millisecond},
			{Limit: 0, Duration: 15 * time.Millisecond},
		},
		ServiceTime: 2 * time.Millisecond,
	})
	defer s.Close()
	seen := map[int]bool{}
	testwait.For(t, func() bool {
		seen[s.Stats().Limit] = true
		return seen[2] && seen[5] && seen[0]
	}, "limits 2, 5 and unlimited reported")

	for l := range seen {
		if l != 0 && l != 2 && l != 5 {
			t.Errorf("reported limit %d is in no phase", l)
		}
	}
}

func TestPhasesBoundInFlight(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{
		Phases: []llmtest.Phase{
			{Limit: 2, Duration: 10 * time.Millisecond},
			{Limit: 5, Duration: 10 * time.Millisecond},
		},
		ServiceTime: 2 * time.Millisecond,
	})
	defer s.Close()
	hammer(t, s, 16, 20, chatJSON)
	st := s.Stats()
	if st.PeakInFlight > 5 {
		t.Errorf("peak in flight %d above the highest phase limit 5", st.PeakInFlight)
	}
	if st.RateLimited == 0 {
		t.Error("no 429 seen")
	}
	if m := st.MeanLimit(); m <= 2 || m >= 5 {
		t.Errorf("mean limit %v, want between the phase limits", m)
	}
}

func TestPunishmentLowersLimit(t *testing.T) {
	for _, tc := range []struct {
		factor float64
		want   int
	}{{0.5, 4}, {0.01, 1}} {
		s := llmtest.NewServer(llmtest.Config{
			Phases:     []llmtest.Phase{{Limit: 8}},
			Punishment: llmtest.Punishment{Threshold: 2, Window: time.Hour, Factor: tc.factor, Duration: time.Hour},
		})
		c := s.Client()
		s.Script(llmtest.RateLimit, llmtest.RateLimit)
		do(t, c, s, chatJSON)
		do(t, c, s, chatJSON)
		if st := s.Stats(); st.Limit != 8 || st.Punishments != 0 {
			t.Errorf("factor %v: limit %d, %d punishments after 2 429s (threshold 2), want 8 and 0", tc.factor, st.Limit, st.Punishments)
		}
		s.Script(llmtest.RateLimit, llmtest.RateLimit)
		do(t, c, s, chatJSON)
		if st := s.Stats(); st.Limit != tc.want || st.Punishments != 1 {
			t.Errorf("factor %v: limit %d, %d punishments after 3 429s, want %d and 1", tc.factor, st.Limit, st.Punishments, tc.want)
		}
		do(t, c, s, chatJSON) // a fourth 429 extends the punishment
		if st := s.Stats(); st.Punishments != 1 {
			t.Errorf("factor %v: %d punishments after a 429 while punished, want 1", tc.factor, st.Punishments)
		}
		s.Close()
	}
}

func TestPunishmentEnds(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{
		Phases:     []llmtest.Phase{{Limit: 4}},
		Punishment: llmtest.Punishment{Threshold: 0, Duration: 20 * time.Millisecond},
	})
	defer s.Close()
	s.Script(llmtest.RateLimit)
	do(t, s.Client(), s, chatJSON)
	if got := s.Stats().Limit; got != 2 && got != 4 {
		t.Fatalf("limit %d", got)
	}
	testwait.For(t, func() bool { return s.Stats().Limit == 4 }, "punishment ends")
	if m := s.Stats().MeanLimit(); m >= 4 || m < 2 {
		t.Errorf("mean limit %v, want in [2, 4) after a punished span", m)
	}
}

func TestMeanLimitConstant(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{Phases: []llmtest.Phase{{Limit: 3}}})
	defer s.Close()
	do(t, s.Client(), s, chatJSON)
	st := s.Stats()
	if math.Abs(st.MeanLimit()-3) > 1e-9 {
		t.Errorf("mean limit %v, want 3", st.MeanLimit())
	}
	if got := (llmtest.Stats{}).MeanLimit(); got != 0 {
		t.Errorf("zero Stats mean limit %v", got)
	}
}
