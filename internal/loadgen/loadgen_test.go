package loadgen

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pacerhttp/pacer/llmtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunCountsAttemptsAndBodies(t *testing.T) {
	for _, stream := range []bool{false, true} {
		srv := llmtest.NewServer(llmtest.Config{ServiceTime: time.Millisecond})
		srv.Script(llmtest.RateLimit, llmtest.Normal, llmtest.Overload)
		c := &Counter{Base: http.DefaultTransport.(*http.Transport).Clone()}
		s := Start(context.Background(), Workload{
			Client: &http.Client{Transport: c}, URL: srv.URL() + "/chat/completions",
			Model: "deepseek-chat", Requests: 10, Callers: 1, Stream: stream,
		}).Wait()
		cs := c.Stats()
		c.CloseIdleConnections()
		srv.Close()
		if s.Done != 10 || s.OK != 8 || s.Failed != 2 {
			t.Errorf("stream %v: done %d ok %d failed %d, want 10 8 2", stream, s.Done, s.OK, s.Failed)
		}
		if s.Failures["429"] != 1 || s.Failures["503"] != 1 {
			t.Errorf("stream %v: failures %v", stream, s.Failures)
		}
		if cs.Attempts != 10 || cs.RateLimited != 1 || cs.Overloaded != 1 || cs.Bodies != 10 || cs.Closed != 10 || cs.InFlight != 0 {
			t.Errorf("stream %v: counter %+v", stream, cs)
		}
		if s.Tokens <= 0 {
			t.Errorf("stream %v: no tokens counted", stream)
		}
		if s.P50 <= 0 || s.P99 < s.P50 {
			t.Errorf("stream %v: p50 %v p99 %v", stream, s.P50, s.P99)
		}
	}
}

func TestCapsStopTheRun(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{ServiceTime: time.Millisecond})
	defer srv.Close()
	c := &Counter{Base: http.DefaultTransport.(*http.Transport).Clone(), MaxAttempts: 3}
	defer c.CloseIdleConnections()
	s := Start(context.Background(), Workload{
		Client: &http.Client{Transport: c}, Counter: c, URL: srv.URL() + "/chat/completions",
		Model: "m", Requests: 10, Callers: 1,
	}).Wait()
	if !errors.Is(s.Err, ErrCapReached) || s.Done != 3 || c.Stats().Attempts != 3 {
		t.Errorf("err %v, done %d, attempts %d; want the cap after 3", s.Err, s.Done, c.Stats().Attempts)
	}

	s = Start(context.Background(), Workload{
		Client: &http.Client{Transport: &Counter{Base: c.Base}}, URL: srv.URL() + "/chat/completions",
		Model: "m", Requests: 10, Callers: 1, TokenBudget: 1,
	}).Wait()
	if !errors.Is(s.Err, ErrCapReached) || s.Done != 1 {
		t.Errorf("err %v, done %d; want the token budget after 1", s.Err, s.Done)
	}
}

func TestFatalStatusStopsTheRun(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{APIKey: "sk-good"})
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	s := Start(context.Background(), Workload{
		Client: &http.Client{Transport: tr}, URL: srv.URL() + "/chat/completions",
		APIKey: "sk-bad", Model: "m", Requests: 10, Callers: 1,
	}).Wait()
	var se *StatusError
	if !errors.As(s.Err, &se) || se.StatusCode != http.StatusUnauthorized || s.Done != 1 {
		t.Errorf("err %v, done %d; want a 401 StatusError after 1", s.Err, s.Done)
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 5}, {0.99, 10}, {0.1, 1}, {1, 10}} {
		if got := Percentile(d, tt.p); got != tt.want {
			t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if Percentile(nil, 0.5) != 0 {
		t.Error("Percentile of nothing is not 0")
	}
}
