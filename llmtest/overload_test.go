package llmtest_test

import (
	"testing"
	"time"

	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/llmtest"
)

func TestOverloadWindows(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{
		Overload:   []llmtest.Window{{Start: 0, Duration: time.Hour}},
		RetryAfter: llmtest.RetryAfterMillis,
	})
	r := do(t, s.Client(), s, chatJSON)
	if r.status != 503 || r.header.Get("retry-after-ms") != "1000" {
		t.Errorf("inside the window: status %d, header %v", r.status, r.header)
	} else if e := decodeError(t, r.body); e.Error.Code != "server_overloaded" {
		t.Errorf("code %q", e.Error.Code)
	}
	if st := s.Stats(); st.Overloaded != 1 || st.PeakInFlight != 0 {
		t.Errorf("stats %+v", st)
	}
	s.Close()

	s = llmtest.NewServer(llmtest.Config{Overload: []llmtest.Window{{Start: time.Hour, Duration: time.Hour}}})
	if r := do(t, s.Client(), s, chatJSON); r.status != 200 {
		t.Errorf("before the window: status %d", r.status)
	}
	s.Close()
}

func TestOverloadWindowsRepeatWithPhases(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{
		Phases:      []llmtest.Phase{{Limit: 100, Duration: 10 * time.Millisecond}, {Limit: 100, Duration: 10 * time.Millisecond}},
		Overload:    []llmtest.Window{{Start: 10 * time.Millisecond, Duration: 10 * time.Millisecond}},
		ServiceTime: -1,
	})
	defer s.Close()
	c := s.Client()
	// Half of every 20ms cycle is overloaded: both answers keep coming.
	testwait.For(t, func() bool {
		do(t, c, s, chatJSON)
		st := s.Stats()
		return st.Completed > 3 && st.Overloaded > 3 && st.Elapsed > 60*time.Millisecond
	}, "both 200 and 503 across cycles")

}

func TestRandomSlowHeaders(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{
		Faults:      llmtest.Faults{SlowHeaders: 1, SlowHeadersDelay: 2 * time.Millisecond},
		ServiceTime: -1,
	})
	defer s.Close()
	r := do(t, s.Client(), s, chatStreamJSON)
	if r.status != 200 || r.readErr != nil {
		t.Fatalf("status %d, %v", r.status, r.readErr)
	}
	if st := s.Stats(); st.Faults != 1 || st.Completed != 1 {
		t.Errorf("stats %+v", st)
	}
}
