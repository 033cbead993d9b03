package concurrency_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/transport"
)

// A gate under an http.Client: the permit is held until the body is read
// or closed.
func ExampleGate_Wrap() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()

	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 2}})
	client := &http.Client{Transport: g.Wrap(nil)}
	defer client.CloseIdleConnections()

	resp, err := client.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("in flight while the body is open:", g.Stats().InFlight)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))
	fmt.Println("in flight after Close:", g.Stats().InFlight)
	// Output:
	// in flight while the body is open: 1
	// hello
	// in flight after Close: 0
}

// Acquire counts work that is not an HTTP request against a key's limit.
func ExampleGate_Acquire() {
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1, MaxQueue: -1}})
	ctx := concurrency.WithKey(context.Background(), "batch")

	release, err := g.Acquire(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = g.Acquire(ctx) // the key is full and queueing is off
	fmt.Println(errors.Is(err, concurrency.ErrQueueFull))
	release(transport.OK)

	s, _ := g.Stats().Key("batch")
	fmt.Printf("limit %d, in flight %d, queued %d\n", s.Limit, s.InFlight, s.Queued)
	// Output:
	// true
	// limit 1, in flight 0, queued 0
}

// An adaptive gate starts low. A request that finds the gate full is
// admitted as a probe of the level above; without a 429 within the probe
// gap (a millisecond before any response was timed) that level fits. A
// probe that fails costs one 429 and leaves the limit where it was.
func ExampleNew_adaptive() {
	// MaxGrowth 1 turns the fast cold start off, so that the gate probes
	// one level at a time.
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{InitialLimit: 2, MaxLimit: 8, MaxGrowth: 1}})
	ctx := context.Background()
	limit := func() int { s, _ := g.Stats().Key(""); return s.Limit }

	a, _ := g.Acquire(ctx)
	b, _ := g.Acquire(ctx)
	fmt.Println("start:", limit())
	a(transport.OK) // the first answer: now the gate may probe
	a, _ = g.Acquire(ctx)
	c, _ := g.Acquire(ctx) // the gate is full: a probe of level 3
	fmt.Println("probing:", limit())
	time.Sleep(5 * time.Millisecond) // no 429 came back: level 3 fits
	d, _ := g.Acquire(ctx)           // full again: a probe of level 4
	fmt.Println("probing:", limit())
	d(transport.RateLimited) // the server says no
	fmt.Println("after the probe failed:", limit())
	for _, r := range []func(transport.Outcome){a, b, c} {
		r(transport.OK)
	}
	// Output:
	// start: 2
	// probing: 3
	// probing: 4
	// after the probe failed: 3
}

func ExampleModelKey() {
	body := `{"model":"deepseek-v4-pro","user_id":"u-42","messages":[]}`
	req, _ := http.NewRequest(http.MethodPost, "https://api.deepseek.com/chat/completions", strings.NewReader(body))
	fmt.Println(concurrency.HostKey(req))
	fmt.Println(concurrency.ModelKey(req))
	fmt.Println(concurrency.UserKey(req))
	// Output:
	// api.deepseek.com
	// api.deepseek.com deepseek-v4-pro
	// api.deepseek.com deepseek-v4-pro user u-42
}
