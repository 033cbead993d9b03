package quota

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/pacerhttp/pacer/transport"
)

func TestSettleThroughTransport(t *testing.T) {
	for _, tc := range []struct {
		name, ctype, body string
	}{
		{"json", "application/json", `{"id":"x","usage":{"prompt_tokens":20,"completion_tokens":10,"total_tokens":30}}`},
		{"sse", "text/event-stream", "data: {\"choices\":[]}\n\n: keep-alive\n\ndata: {\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":10,\"total_tokens\":30}}\n\ndata: [DONE]\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := New(Config{Refunds: true})
			served := int64(0)
			rt := q.Wrap(transport.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
				b, _ := io.ReadAll(r.Body)
				r.Body.Close()
				// The server charges the estimate when the request arrives
				// (and, by Refunds, gives back the rest at its end).
				served += int64(len(b))/4 + 500
				h := http.Header{"Content-Type": {tc.ctype}}
				h.Set("x-ratelimit-limit-tokens", "10000")
				h.Set("x-ratelimit-remaining-tokens", strconv.FormatInt(10000-served, 10))
				h.Set("x-ratelimit-reset-tokens", "1m0s")
				return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(bytes.NewBufferString(tc.body))}, nil
			}))
			if _, err := do(t, rt, chat(t, "m", 500)); err != nil { // announces
				t.Fatal(err)
			}
			before, _ := q.Stats().Key(key)
			req := chat(t, "m", 500)
			charge := req.ContentLength/4 + 500
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			mid, _ := q.Stats().Key(key)
			if got, want := mid.Tokens.Remaining, before.Tokens.Remaining-charge; got != want {
				t.Fatalf("after the headers: %d tokens left, want %d", got, want)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			after, _ := q.Stats().Key(key)
			if got, want := after.Tokens.Remaining, mid.Tokens.Remaining+charge-30; got != want {
				t.Fatalf("after the usage: %d tokens left, want %d (the charge %d settled to 30)", got, want, charge)
			}
		})
	}
}
