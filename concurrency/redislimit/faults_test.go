package redislimit_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/transport"
)

// sharedFault is one hostile row of the shared limit's fault matrix: what
// happens to Redis, and what a call through the full default stack over
// the Redis limiter must give.
type sharedFault struct {
	fault, want string
	// during breaks Redis (or the limiter) before the call and returns how
	// to mend it after; nil mend: nothing to mend.
	during func(t *testing.T, rs *redisServer, l *redislimit.Limiter) (mend func())
	// timeout bounds the call's context; zero: none.
	timeout time.Duration

	ok       bool  // the call must get the answer
	err      error // else it must fail with an error matching err
	attempts int64 // requests the fake API must have got
}

var sharedFaults = []sharedFault{
	{
		fault: "Redis frozen while the request waits for a permit",
		want:  "the caller's deadline ends the wait with context.DeadlineExceeded; nothing sent, nothing retried",
		during: func(t *testing.T, rs *redisServer, _ *redislimit.Limiter) func() {
			if err := rs.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			return func() { _ = rs.cmd.Process.Signal(syscall.SIGCONT) }
		},
		timeout: 300 * time.Millisecond,
		err:     context.DeadlineExceeded, attempts: 0,
	},
	{
		fault: "Redis down longer than the lease TTL",
		want:  "the local fallback limit serves the call; after Redis returns, the shared limit holds no stale lease",
		during: func(t *testing.T, rs *redisServer, _ *redislimit.Limiter) func() {
			rs.stop()
			time.Sleep(sharedTTL + 200*time.Millisecond) // past every lease's TTL
			return rs.start
		},
		ok: true, attempts: 1,
	},
	{
		fault: "limiter closed",
		want:  "redislimit.ErrClosed, a rejection (transport.ErrRejected): nothing sent, nothing retried",
		during: func(t *testing.T, _ *redisServer, l *redislimit.Limiter) func() {
			_ = l.Close()
			return nil
		},
		err: redislimit.ErrClosed, attempts: 0,
	},
}

const sharedTTL = 2 * time.Second

// TestSharedLimitFaultMatrix sends one call through pacer.New over the
// Redis limiter for every row, then checks that the gate holds no permit,
// that Redis holds no lease once it answers, and that a later call
// succeeds when the limiter is still open.
func TestSharedLimitFaultMatrix(t *testing.T) {
	for _, row := range sharedFaults {
		t.Run(row.fault, func(t *testing.T) {
			t.Logf("want: %s", row.want)
			rs := startRedis(t)
			g := &group{rdb: newClient(t, rs.Addr()), prefix: uniquePrefix(t)}
			l := redislimit.New(newClient(t, rs.Addr()), redislimit.Config{Prefix: g.prefix, Limits: concurrency.Limits{Limit: 4}, TTL: sharedTTL, Recheck: 50 * time.Millisecond})
			defer l.Close()
			api := llmtest.NewServer(llmtest.Config{ServiceTime: time.Millisecond})
			defer api.Close()
			st := pacer.New(pacer.Config{Gate: concurrency.Config{Limiter: l}})
			defer st.CloseIdleConnections()
			client := st.Client()
			if err := call(context.Background(), client, api.URL()); err != nil {
				t.Fatalf("warm-up call: %v", err)
			}
			before := api.Stats().Requests

			mend := row.during(t, rs, l)
			ctx := context.Background()
			if row.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, row.timeout)
				defer cancel()
			}
			start := time.Now()
			err := call(ctx, client, api.URL())
			took := time.Since(start)
			if mend != nil {
				mend()
			}
			switch {
			case row.ok && err != nil:
				t.Fatalf("call: %v, want the answer", err)
			case !row.ok && !errors.Is(err, row.err):
				t.Fatalf("call: %v, want an error matching %v", err, row.err)
			}
			if errors.Is(row.err, redislimit.ErrClosed) && !errors.Is(err, transport.ErrRejected) {
				t.Errorf("%v does not match transport.ErrRejected", err)
			}
			if row.timeout > 0 && took > row.timeout+2*time.Second {
				t.Errorf("the call took %v with a deadline of %v", took, row.timeout)
			}
			if n := api.Stats().Requests - before; n != row.attempts {
				t.Errorf("the API got %d requests, want %d", n, row.attempts)
			}
			// An Acquire given up while Redis was frozen may run when it
			// thaws; its lease is given back at the next renewal.
			testwait.For(t, func() bool {
				s := st.Gate.Stats()
				return s.InFlight == 0 && s.Queued == 0
			}, "the gate empty")

			if errors.Is(row.err, redislimit.ErrClosed) {
				return
			}
			if err := call(context.Background(), client, api.URL()); err != nil {
				t.Fatalf("call after the fault: %v", err)
			}
			key := strings.TrimPrefix(strings.TrimSuffix(api.URL(), "/v1"), "http://") + " deepseek-chat"
			testwait.For(t, func() bool { return g.card(t, key, "leases") == 0 }, "no lease left in Redis")
		})
	}
}

// call sends one chat completion and reads its answer.
func call(ctx context.Context, c *http.Client, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/chat/completions",
		strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}
