package llmtest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pacerhttp/pacer/llmtest"
)

func TestHandlerServesWithoutListener(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := llmtest.NewHandler(llmtest.Config{ServiceTime: 300 * time.Millisecond})
		defer h.Close()
		rec := serveChat(h, chatJSON)
		if rec.status != http.StatusOK || !strings.Contains(rec.body(), h.Answer()) {
			t.Fatalf("status %d body %q", rec.status, rec.body())
		}
		if got := rec.end(); got != 300*time.Millisecond {
			t.Errorf("answer written at %v, want exactly the service time 300ms", got)
		}
		if st := h.Stats(); st.Completed != 1 || st.InFlight != 0 {
			t.Errorf("stats %+v", st)
		}
	})
}

func TestListenOnChosenAddress(t *testing.T) {
	s, err := llmtest.Listen("127.0.0.1:0", llmtest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasSuffix(s.URL(), s.Addr().String()+"/v1") {
		t.Errorf("URL %s does not name address %s", s.URL(), s.Addr())
	}
	if r := do(t, s.Client(), s, chatJSON); r.status != http.StatusOK {
		t.Errorf("status %d", r.status)
	}
	if _, err := llmtest.Listen(s.Addr().String(), llmtest.Config{}); err == nil {
		t.Error("second Listen on a taken address succeeded")
	}
}

func ExampleListen() {
	// A fixed address lets a program in another language (a Python or
	// Node test suite) use the fake API as its base URL; ":0" picks a port.
	s, err := llmtest.Listen("127.0.0.1:0", llmtest.Config{Phases: []llmtest.Phase{{Limit: 8}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	resp, err := http.Post(s.URL()+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 200
}

func ExampleNewHandler() {
	// The handler serves on any http.Server, such as one a command starts
	// for tests written in another language:
	//
	//	http.ListenAndServe(":8080", llmtest.NewHandler(cfg))
	h := llmtest.NewHandler(llmtest.Config{ServiceTime: -1})
	defer h.Close()
	ts := httptest.NewServer(h)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/v1/models")
	if err != nil {
		fmt.Println(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 200
}
