package keepalive_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/transport"
)

// sseStream is a realistic streamed answer: 100 keep-alives while the
// request waits to be scheduled, then 5000 chat.completion.chunk events,
// a usage chunk and [DONE] (about 1.1 MB).
func sseStream() []byte {
	var b bytes.Buffer
	for range 100 {
		b.WriteString(": keep-alive\n\n")
	}
	b.WriteString(sseEvents(5000))
	b.WriteString("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5000,\"total_tokens\":5010}}\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// jsonBody is a large non-streaming answer (about 1 MB) after 1000 blank
// lines.
func jsonBody() []byte {
	var b bytes.Buffer
	b.WriteString(strings.Repeat("\n", 1000))
	b.WriteString(`{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"`)
	for i := range 20000 {
		fmt.Fprintf(&b, "word %d, ", i)
	}
	b.WriteString(`"}}],"usage":{"prompt_tokens":10,"completion_tokens":20000,"total_tokens":20010}}`)
	return b.Bytes()
}

// onlyReader hides bytes.Reader's WriteTo so that io.CopyBuffer really
// copies through the buffer, as it does with a network body.
type onlyReader struct{ io.Reader }

// BenchmarkReaders measures MB/s of whole bodies copied to io.Discard through
// each reader, against io.CopyBuffer of the same bytes unfiltered.
func BenchmarkReaders(b *testing.B) {
	for _, in := range []struct {
		name   string
		data   []byte
		filter func(io.Reader) io.Reader
	}{
		{"sse", sseStream(), keepalive.NewSSEReader},
		{"json", jsonBody(), keepalive.NewJSONReader},
	} {
		buf := make([]byte, 32<<10)
		src := bytes.NewReader(in.data)
		b.Run(in.name+"/baseline-copy", func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				src.Reset(in.data)
				if _, err := io.CopyBuffer(io.Discard, onlyReader{src}, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(in.name+"/filtered", func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				src.Reset(in.data)
				if _, err := io.CopyBuffer(io.Discard, onlyReader{in.filter(src)}, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead measures one 32 KiB Read of an endless SSE stream, to show
// the allocations per Read (0).
func BenchmarkRead(b *testing.B) {
	data := sseStream()
	buf := make([]byte, 32<<10)
	b.Run("sse/baseline", func(b *testing.B) {
		r := &loopReader{b: data}
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = r.Read(buf)
		}
	})
	b.Run("sse/filtered", func(b *testing.B) {
		r := keepalive.NewSSEReader(&loopReader{b: data})
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = r.Read(buf)
		}
	})
}

// BenchmarkRoundTrip measures a whole request against a loopback server,
// with and without the filter, for a JSON and a streamed answer.
func BenchmarkRoundTrip(b *testing.B) {
	stream := []byte(sseEvents(20) + "data: [DONE]\n\n")
	answer := []byte(`{"id":"chatcmpl-1","object":"chat.completion","choices":[]}`)
	for _, tt := range []struct {
		name, contentType string
		body              []byte
	}{
		{"json", "application/json", answer},
		{"sse", "text/event-stream", stream},
	} {
		srv := newBenchServer(tt.contentType, tt.body)
		base := srv.Client().Transport
		for _, rt := range []struct {
			name string
			rt   http.RoundTripper
		}{
			{"bare", base},
			{"keepalive", keepalive.New(keepalive.Config{}).Wrap(base)},
		} {
			b.Run(tt.name+"/"+rt.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("{}"))
					resp, err := rt.rt.RoundTrip(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		srv.Close()
	}
}

// BenchmarkBodyRead measures a Read of the layer's body of a stream that
// never ends, in the 512-byte reads an SDK's line reader makes, with the
// idle deadline off and on: the deadline's cost per Read.
func BenchmarkBodyRead(b *testing.B) {
	data := []byte(sseEvents(100))
	for _, tc := range []struct {
		name string
		idle time.Duration
	}{
		{"idle-off", -1},
		{"idle-on", time.Hour},
	} {
		b.Run("sse/"+tc.name, func(b *testing.B) {
			base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
				h := http.Header{"Content-Type": {"text/event-stream"}}
				return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(&loopReader{b: data}), ContentLength: -1, Request: req}, nil
			})
			req, _ := http.NewRequest("POST", "http://api.example.test/", nil)
			resp, err := keepalive.New(keepalive.Config{IdleTimeout: tc.idle}).Wrap(base).RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			defer resp.Body.Close()
			buf := make([]byte, 512)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.ReadFull(resp.Body, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
