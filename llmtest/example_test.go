package llmtest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

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
