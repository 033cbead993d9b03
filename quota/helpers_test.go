package quota

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer is a base with fixed windows: limit requests and tokens per
// period, counted when a request arrives, as OpenAI counts them (the
// body's length / 4 plus max_tokens), answered with 429 beyond either.
type fakeServer struct {
	period      time.Duration
	reqLimit    int64
	tokLimit    int64         // zero: no token window
	latency     time.Duration // each way
	service     time.Duration
	usage       int64 // completion tokens the answer reports
	noHeaders   bool
	debug       func(string)
	start       time.Time
	mu          sync.Mutex
	win         int64
	usedR       int64
	usedT       int64
	sent        atomic.Int64
	ok, limited atomic.Int64
	lateLimited atomic.Int64 // 429s after the first window
	maxInFlight atomic.Int64
	inFlight    atomic.Int64
}

func (s *fakeServer) RoundTrip(req *http.Request) (*http.Response, error) {
	s.sent.Add(1)
	body, _ := io.ReadAll(req.Body)
	req.Body.Close()
	var in struct {
		MaxTokens int64 `json:"max_tokens"`
	}
	_ = json.Unmarshal(body, &in)
	charge := int64(len(body))/4 + in.MaxTokens
	if err := sleepCtx(req, s.latency); err != nil {
		return nil, err
	}
	s.mu.Lock()
	now := time.Now()
	if s.start.IsZero() {
		s.start = now
	}
	if w := int64(now.Sub(s.start) / s.period); w != s.win {
		s.win, s.usedR, s.usedT = w, 0, 0
	}
	reset := s.start.Add(time.Duration(s.win+1) * s.period).Sub(now)
	code := http.StatusOK
	if s.usedR+1 > s.reqLimit || (s.tokLimit > 0 && s.usedT+charge > s.tokLimit) {
		code = http.StatusTooManyRequests
	} else {
		s.usedR++
		s.usedT += charge
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if !s.noHeaders {
		h.Set("x-ratelimit-limit-requests", strconv.FormatInt(s.reqLimit, 10))
		h.Set("x-ratelimit-remaining-requests", strconv.FormatInt(s.reqLimit-s.usedR, 10))
		h.Set("x-ratelimit-reset-requests", reset.String())
		if s.tokLimit > 0 {
			h.Set("x-ratelimit-limit-tokens", strconv.FormatInt(s.tokLimit, 10))
			h.Set("x-ratelimit-remaining-tokens", strconv.FormatInt(s.tokLimit-s.usedT, 10))
			h.Set("x-ratelimit-reset-tokens", reset.String())
		}
	}
	s.mu.Unlock()
	if s.debug != nil {
		s.debug(fmt.Sprintf("%v win %d used %d/%d tok %d/%d code %d reset %v", now.Sub(s.start), s.win, s.usedR, s.reqLimit, s.usedT, s.tokLimit, code, reset))
	}
	if code == http.StatusTooManyRequests {
		if s.win > 0 {
			s.lateLimited.Add(1)
		}
		s.limited.Add(1)
	} else {
		s.ok.Add(1)
	}
	n := s.inFlight.Add(1)
	for m := s.maxInFlight.Load(); n > m && !s.maxInFlight.CompareAndSwap(m, n); m = s.maxInFlight.Load() {
	}
	defer s.inFlight.Add(-1)
	if err := sleepCtx(req, s.service+s.latency); err != nil {
		return nil, err
	}
	out := fmt.Sprintf(`{"id":"x","usage":{"prompt_tokens":%d,"completion_tokens":%d}}`, len(body)/4, s.usage)
	return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(bytes.NewBufferString(out)), Request: req}, nil
}

// sleepCtx waits d of the bubble's fake time, or until req's context ends.
func sleepCtx(req *http.Request, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-req.Context().Done():
		return req.Context().Err()
	}
}

// chat returns a chat request with a replayable body naming model and
// maxTokens.
func chat(t testing.TB, model string, maxTokens int) *http.Request {
	t.Helper()
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Say hello."}],"max_tokens":%d}`, model, maxTokens)
	req, err := http.NewRequest(http.MethodPost, "http://api.test/v1/chat/completions", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// announce returns a response announcing the given request window.
func announce(limit, remaining int64, reset time.Duration) *http.Response {
	h := http.Header{}
	h.Set("x-ratelimit-limit-requests", strconv.FormatInt(limit, 10))
	h.Set("x-ratelimit-remaining-requests", strconv.FormatInt(remaining, 10))
	h.Set("x-ratelimit-reset-requests", reset.String())
	return &http.Response{StatusCode: http.StatusOK, Header: h, Body: http.NoBody}
}

// do sends req through rt and drains and closes the response.
func do(t testing.TB, rt http.RoundTripper, req *http.Request) (int, error) {
	t.Helper()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
