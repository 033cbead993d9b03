package keepalive_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/transport"
)

// A streamed answer that waited to be scheduled: the client sees the events
// only, and RoundTrip returned when the first one arrived.
func ExampleFilter_Wrap() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for range 3 {
			fmt.Fprint(w, ": keep-alive\n\n")
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, "data: {\"content\":\"Hello\"}\n\n")
		fmt.Fprint(w, ": keep-alive\n\n")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()

	f := keepalive.New(keepalive.Config{})
	client := &http.Client{Transport: f.Wrap(srv.Client().Transport)}
	resp, err := client.Post(srv.URL, "application/json", strings.NewReader(`{"stream":true}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		fmt.Printf("%q\n", sc.Text())
	}
	// Output:
	// "data: {\"content\":\"Hello\"}"
	// ""
	// "data: [DONE]"
	// ""
}

// A server that gives up on a waiting request: the error says nothing was
// delivered, so a retry layer in front may send the request again.
func ExampleErrClosedWhileWaiting() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "\n\n\n")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection
	}))
	defer srv.Close()

	client := &http.Client{Transport: keepalive.New(keepalive.Config{}).Wrap(srv.Client().Transport)}
	_, err := client.Post(srv.URL, "application/json", strings.NewReader(`{}`))
	fmt.Println(errors.Is(err, keepalive.ErrClosedWhileWaiting))
	fmt.Println(errors.Is(err, transport.ErrNoResponse))
	fmt.Println(transport.Classify(nil, err))
	// Output:
	// true
	// true
	// network_error
}

func ExampleNewSSEReader() {
	stream := ": keep-alive\n\n: keep-alive\n\ndata: a\n: ping\ndata: b\n\n\n\ndata: [DONE]\n\n"
	_, _ = io.Copy(os.Stdout, keepalive.NewSSEReader(strings.NewReader(stream)))
	// Output:
	// data: a
	// data: b
	//
	// data: [DONE]
}

func ExampleNewJSONReader() {
	body := "\n\n\n\n{\"id\":\"chatcmpl-1\"}\n"
	_, _ = io.Copy(os.Stdout, keepalive.NewJSONReader(strings.NewReader(body)))
	// Output:
	// {"id":"chatcmpl-1"}
}
