package llmtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pacerhttp/pacer/llmtest"
)

func Example() {
	s := llmtest.NewServer(llmtest.Config{
		Phases: []llmtest.Phase{{Limit: 2}}, // a fixed limit of 2
	})
	defer s.Close()

	body := `{"model":"deepseek-chat","messages":[{"role":"user","content":"Say hello"}]}`
	resp, err := http.Post(s.URL()+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	fmt.Println(strings.Contains(string(b), s.Answer()))

	st := s.Stats()
	fmt.Println(st.Requests, st.Completed, st.Limit)
	// Output:
	// 200
	// true
	// 1 1 2
}

func ExampleServer_Script() {
	s := llmtest.NewServer(llmtest.Config{RetryAfter: llmtest.RetryAfterSeconds})
	defer s.Close()
	s.Script(llmtest.RateLimit, llmtest.Overload)

	body := `{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}`
	for range 3 {
		resp, err := http.Post(s.URL()+"/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			fmt.Println(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Output:
	// 429 1
	// 503 1
	// 200
}

func ExampleWait() {
	s := llmtest.NewServer(llmtest.Config{
		// Every request waits 30ms to be scheduled, with a keep-alive every
		// 5ms, before its 20ms of service.
		Wait: llmtest.Wait{Share: 1, Duration: 30 * time.Millisecond, Interval: 5 * time.Millisecond},
	})
	defer s.Close()

	body := `{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}`
	resp, err := s.Client().Post(s.URL()+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	answer := strings.TrimLeft(string(b), "\n")
	fmt.Println(resp.StatusCode, len(answer) < len(b), json.Valid([]byte(answer)))
	// Output:
	// 200 true true
}

func ExampleStats_MeanLimit() {
	s := llmtest.NewServer(llmtest.Config{Phases: []llmtest.Phase{{Limit: 6}}})
	defer s.Close()
	// With a fixed limit the mean is that limit; with phases it is their
	// time-weighted mean. Divided by the service time it gives the ideal
	// goodput.
	st := s.Stats()
	fmt.Printf("%.0f\n", st.MeanLimit())
	// Output:
	// 6
}
