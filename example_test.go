package pacer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/transport"
)

// A plain http.Client: the fake API answers the first two attempts with 429
// (and a retry-after-ms of one); the caller sees one answer. An SDK takes
// the same client (see the SDK settings in the package doc).
func ExampleNewClient() {
	srv := llmtest.NewServer(llmtest.Config{RetryAfter: llmtest.RetryAfterMillis, RetryAfterDelay: time.Millisecond})
	defer srv.Close()
	srv.Script(llmtest.RateLimit, llmtest.RateLimit)

	client := pacer.NewClient(pacer.Config{})
	resp, err := client.Post(srv.URL()+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"Hello"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var answer struct {
		Model   string `json:"model"`
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, answer.Model, answer.Choices[0].FinishReason)
	fmt.Println("429s absorbed:", srv.Stats().RateLimited)
	// Output:
	// 200 deepseek-chat stop
	// 429s absorbed: 2
}

// Priorities: when the gate is full, a waiting Interactive request goes
// before Background ones that queued earlier. Here the gate is fixed at one
// request in flight; a first request holds it while a background and then an
// interactive request queue.
func ExampleNew_priority() {
	srv := llmtest.NewServer(llmtest.Config{RecordRequests: true})
	defer srv.Close()
	st := pacer.New(pacer.Config{Gate: concurrency.Config{Limits: concurrency.Limits{Limit: 1}}})
	client := st.Client()
	chat := func(ctx context.Context, prompt string) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/chat/completions",
			strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"`+prompt+`"}]}`))
		return req
	}
	send := func(req *http.Request) error {
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	}
	queued := func(n int) { // until n requests wait in the gate's queue
		for st.Gate.Stats().Queued < n {
			runtime.Gosched()
		}
	}

	// The first request holds the gate's only permit until its body is read.
	first, err := client.Do(chat(context.Background(), "first"))
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 2)
	go func() {
		done <- send(chat(transport.WithPriority(context.Background(), transport.Background), "background"))
	}()
	queued(1)
	go func() { done <- send(chat(context.Background(), "interactive")) }()
	queued(2)
	io.Copy(io.Discard, first.Body)
	first.Body.Close()
	for range 2 {
		if err := <-done; err != nil {
			fmt.Println(err)
		}
	}

	for _, r := range srv.Requests() {
		var body struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		json.Unmarshal(r.Body, &body)
		fmt.Println(body.Messages[0].Content)
	}
	// Output:
	// first
	// interactive
	// background
}

// Leaving layers out: Without takes a set of layers, and the Stack's field
// of a layer left out is nil.
func ExampleConfig_without() {
	st := pacer.New(pacer.Config{Without: pacer.LayerBreaker | pacer.LayerTelemetry})
	fmt.Println("left out:", pacer.LayerBreaker|pacer.LayerTelemetry)
	fmt.Println("breaker:", st.Breaker != nil, "telemetry:", st.Telemetry != nil, "gate:", st.Gate != nil)
	// Output:
	// left out: telemetry|breaker
	// breaker: false telemetry: false gate: true
}

// The stack's layers stay within reach: after a 503 that the stack retried,
// the gate's stats show the key it learned and that nothing is in flight
// once the body is closed.
func ExampleStack_Client() {
	srv := llmtest.NewServer(llmtest.Config{RetryAfter: llmtest.RetryAfterMillis, RetryAfterDelay: time.Millisecond})
	defer srv.Close()
	srv.Script(llmtest.Overload)

	st := pacer.New(pacer.Config{})
	resp, err := st.Client().Post(srv.URL()+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"Hello"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "after", srv.Stats().Overloaded, "503")
	fmt.Println("in flight:", st.Gate.Stats().InFlight, "breaker:", st.Breaker.State())
	// Output:
	// 200 after 1 503
	// in flight: 0 breaker: closed
}
