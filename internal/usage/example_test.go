package usage_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/usage"
)

// A layer wraps a response body and settles, once the body is done, with
// the usage the caller's reads went through.
func Example() {
	stream := "event: message_start\n" +
		`data: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":25,"output_tokens":1}}}` + "\n\n" +
		"event: message_delta\n" +
		`data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}` + "\n\n"
	resp := &http.Response{
		Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body:   io.NopCloser(strings.NewReader(stream)),
	}

	b := usage.NewBody(resp)
	resp.Body = httpbody.OnDone(b, func(error) {
		u := b.Usage()
		fmt.Println(u.Model, u.Input, u.Output, u.Total)
	})

	_, _ = io.Copy(io.Discard, resp.Body) // the caller reads
	_ = resp.Body.Close()
	// Output: claude-x 25 15 40
}
