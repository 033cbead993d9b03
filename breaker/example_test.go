package breaker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/transport"
)

// A provider answering 503 opens its circuit; further requests fail fast
// without reaching it.
func Example() {
	var served int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served++
		http.Error(w, `{"error":{"message":"Server overloaded"}}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	b := breaker.New(breaker.Config{
		MinRequests: 3,
		Delay:       time.Minute,
		OnStateChange: func(_ string, from, to breaker.State) {
			fmt.Println("circuit:", from, "->", to)
		},
	})
	client := &http.Client{Transport: transport.Chain(nil, b.Wrap)}
	defer client.CloseIdleConnections()

	for range 5 {
		resp, err := client.Get(srv.URL + "/v1/models")
		if err != nil {
			fmt.Println("fails fast:", errors.Is(err, breaker.ErrOpen))
			continue
		}
		httpbody.DiscardResponse(resp)
		fmt.Println("status:", resp.StatusCode)
	}
	fmt.Println("state:", b.State(), "server saw:", served)
	// Output:
	// status: 503
	// status: 503
	// circuit: closed -> open
	// status: 503
	// fails fast: true
	// fails fast: true
	// state: open server saw: 3
}

// While the primary's circuit is open, Interactive requests go to another
// OpenAI-compatible provider with its own key and model; Background requests
// are shed.
func ExampleRetarget() {
	primary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer primary.Close()
	fallback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Model string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		fmt.Fprintf(w, "%s %s model=%s", r.URL.Path, r.Header.Get("Authorization"), body.Model)
	}))
	defer fallback.Close()

	fb, err := breaker.Retarget(nil, breaker.Target{
		BaseURL: fallback.URL + "/v1",
		APIKey:  "fallback-key",
		Model:   "gpt-4o-mini",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b := breaker.New(breaker.Config{MinRequests: 1, Fallback: fb})
	client := &http.Client{Transport: b.Wrap(nil)}
	defer client.CloseIdleConnections()

	post := func(p transport.Priority) {
		ctx := transport.WithPriority(context.Background(), p)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, primary.URL+"/chat/completions",
			strings.NewReader(`{"model":"deepseek-chat","messages":[]}`))
		req.Header.Set("Authorization", "Bearer primary-key")
		resp, err := client.Do(req)
		if err != nil {
			fmt.Printf("%s: %v\n", p, errors.Is(err, breaker.ErrOpen))
			return
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s: %d %s\n", p, resp.StatusCode, strings.TrimSpace(string(text)))
	}
	post(transport.Interactive) // 503 opens the circuit
	post(transport.Interactive)
	post(transport.Background)
	// Output:
	// interactive: 503 overloaded
	// interactive: 200 /v1/chat/completions Bearer fallback-key model=gpt-4o-mini
	// background: true
}
