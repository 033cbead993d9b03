package concurrency_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

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

	g := concurrency.New(concurrency.Config{Limit: 2})
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
	g := concurrency.New(concurrency.Config{Limit: 1, MaxQueue: -1})
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

// An adaptive gate starts low and raises its limit while it is saturated
// and the server accepts more.
func ExampleNew_adaptive() {
	g := concurrency.New(concurrency.Config{InitialLimit: 2, MaxLimit: 8})
	ctx := context.Background()
	limit := func() int { s, _ := g.Stats().Key(""); return s.Limit }

	var held []func(transport.Outcome)
	fill := func() { // callers with work to do keep the gate full
		for len(held) == 0 || len(held) < limit() {
			r, _ := g.Acquire(ctx)
			held = append(held, r)
		}
	}
	fill()
	fmt.Println("start:", limit())
	for range 20 {
		held[0](transport.OK) // a success while saturated
		held = held[1:]
		fill()
	}
	fmt.Println("after 20 successes:", limit())
	held[0](transport.RateLimited) // the server says no
	held = held[1:]
	fmt.Println("after a 429:", limit())
	for _, r := range held {
		r(transport.OK)
	}
	// Output:
	// start: 2
	// after 20 successes: 8
	// after a 429: 7
}
