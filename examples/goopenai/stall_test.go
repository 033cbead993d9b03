package goopenai_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/transport"
)

// A stream whose events stop while its keep-alives go on ends, for
// go-openai, with keepalive.ErrStalled about IdleTimeout after its last
// event, its connection closed and the gate's permit back.
func TestStalledStreamEnds(t *testing.T) {
	const idle = 200 * time.Millisecond
	srv := newServer(t, llmtest.Config{StreamChunks: 4, Faults: llmtest.Faults{StallAfter: 2}})
	srv.Script(llmtest.StallMidBody)
	st := newStack(t, pacer.Config{KeepAlive: keepalive.Config{IdleTimeout: idle}})
	c := newClient(srv, st.Client())

	rec := new(transport.Record)
	start := time.Now()
	content, err := stream(transport.ContextWithRecord(context.Background(), rec), c)
	took := time.Since(start)
	if !errors.Is(err, keepalive.ErrStalled) {
		t.Fatalf("stream ended with %v, want keepalive.ErrStalled", err)
	}
	if content == "" {
		t.Errorf("no content before the stall")
	}
	t.Logf("stalled stream ended after %v (IdleTimeout %v)", took, idle)
	if took < idle || took > 10*idle {
		t.Errorf("stream ended after %v, want about %v", took, idle)
	}
	if f := rec.Facts(); !f.Stalled || f.Attempts != 1 {
		t.Errorf("facts %+v, want one stalled attempt", f)
	}
	st.Gate.EachKey(func(key string, _, inFlight, queued int) {
		if inFlight != 0 || queued != 0 {
			t.Errorf("gate %q: %d in flight, %d queued after the stall", key, inFlight, queued)
		}
	})
}

// A rate-limit error a gateway sends as the first event of a 200 stream is
// the 429 it names: retried, and go-openai sees the answer.
func TestErrorEventRetried(t *testing.T) {
	srv := newServer(t, llmtest.Config{})
	srv.Script(llmtest.ErrorInStream)
	st := newStack(t, pacer.Config{Retry: fastRetry})
	c := newClient(srv, st.Client())

	rec := new(transport.Record)
	content, err := stream(transport.ContextWithRecord(context.Background(), rec), c)
	if err != nil {
		t.Fatal(err)
	}
	if content != srv.Answer() {
		t.Errorf("content %q, want %q", content, srv.Answer())
	}
	if f := rec.Facts(); f.Attempts != 2 || f.Outcome != transport.OK {
		t.Errorf("facts %+v, want 2 attempts, ok", f)
	}
}
