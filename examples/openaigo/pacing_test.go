package openaigo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/llmtest"
)

// Streamed calls through pacer.Config{}, with the SDK's retries off, against
// a low limit, half of them held with hundreds of keep-alive comments before
// their first chunk: every call succeeds with the whole answer.
func TestStreamsLowLimitWithKeepAlives(t *testing.T) {
	srv := newServer(t, llmtest.Config{
		Phases:      []llmtest.Phase{{Limit: 3, Duration: 150 * time.Millisecond}, {Limit: 2, Duration: 150 * time.Millisecond}},
		ServiceTime: 20 * time.Millisecond,
		Wait:        llmtest.Wait{Share: 0.5, Duration: 40 * time.Millisecond, Interval: 100 * time.Microsecond},
		Seed:        1,
	})
	st := newStack(t, pacer.Config{})
	c := newClient(srv, st.Client())

	const calls, callers = 32, 8
	errs := parallel(calls, callers, func() error {
		content, err := stream(context.Background(), c)
		if err == nil && content != srv.Answer() {
			err = fmt.Errorf("content %q, want %q", content, srv.Answer())
		}
		return err
	})
	for _, err := range errs {
		t.Error(err)
	}
	s := srv.Stats()
	if in := st.Gate.Stats().InFlight; in != 0 {
		t.Errorf("%d permits still held", in)
	}
	t.Logf("%d attempts, %d 429s, peak in flight %d", s.Requests, s.RateLimited, s.PeakInFlight)
}
