package llmtest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/llmtest"
)

func TestWaitSendsKeepAlives(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{
		Wait:        llmtest.Wait{Share: 1, Duration: 30 * time.Millisecond, Interval: 3 * time.Millisecond},
		ServiceTime: time.Millisecond,
	})
	defer s.Close()

	r := do(t, s.Client(), s, chatJSON)
	if r.status != 200 || r.readErr != nil {
		t.Fatalf("status %d, %v", r.status, r.readErr)
	}
	json := strings.TrimLeft(r.body, "\n")
	if len(json) == len(r.body) {
		t.Errorf("JSON answer %q has no leading blank line", r.body)
	}
	decodeCompletion(t, json)

	r = do(t, s.Client(), s, chatStreamJSON)
	if r.status != 200 || r.readErr != nil {
		t.Fatalf("status %d, %v", r.status, r.readErr)
	}
	if !strings.HasPrefix(r.body, ": keep-alive\n\n") || !strings.HasSuffix(r.body, "data: [DONE]\n\n") {
		t.Errorf("SSE answer %q", r.body)
	}
	rest := strings.ReplaceAll(r.body, ": keep-alive\n\n", "")
	if strings.Contains(rest, "keep-alive") || !strings.HasPrefix(rest, "data: ") {
		t.Errorf("keep-alives not all before the data: %q", r.body)
	}
	if st := s.Stats(); st.Completed != 2 || st.ClosedWhileWaiting != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestWaitAboveMaxCloses(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{
		Wait: llmtest.Wait{Share: 1, Duration: time.Hour, Max: 20 * time.Millisecond, Interval: 2 * time.Millisecond},
	})
	defer s.Close()
	for _, body := range []string{chatJSON, chatStreamJSON} {
		r := do(t, s.Client(), s, body)
		if r.err != nil || r.status != 200 || !errors.Is(r.readErr, io.ErrUnexpectedEOF) {
			t.Errorf("err %v, status %d, read error %v", r.err, r.status, r.readErr)
		}
		if strings.Contains(r.body, "data:") || strings.Contains(r.body, "{") {
			t.Errorf("body %q carries an answer", r.body)
		}
	}
	if st := s.Stats(); st.ClosedWhileWaiting != 2 || st.Completed != 0 || st.InFlight != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestWaitEndsWhenClientGoesAway(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{
		Phases: []llmtest.Phase{{Limit: 1}},
		Wait:   llmtest.Wait{Share: 1, Duration: time.Hour, Interval: 2 * time.Millisecond},
	})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/chat/completions", strings.NewReader(chatJSON))
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if st := s.Stats(); st.InFlight != 1 {
		t.Errorf("a waiting request is not in flight: %+v", st)
	}
	if r := do(t, s.Client(), s, chatJSON); r.status != 429 {
		t.Errorf("second request with limit 1: status %d, want 429", r.status)
	}
	cancel()
	resp.Body.Close()
	testwait.For(t, func() bool {
		st := s.Stats()
		return st.InFlight == 0 && st.Canceled == 1
	}, "the wait ends after the client left")

}

func TestCloseEndsWaits(t *testing.T) {
	s := llmtest.NewServer(llmtest.Config{
		Wait: llmtest.Wait{Share: 1, Duration: time.Hour, Interval: time.Millisecond},
	})
	resp, err := s.Client().Post(s.URL()+"/chat/completions", "application/json", strings.NewReader(chatJSON))
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // must not hang on the waiting request
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
