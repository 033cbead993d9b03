package keepalive_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/transport"
)

var sseSeeds = []string{
	"",
	": keep-alive\n\n: keep-alive\n\ndata: {\"a\":1}\n\ndata: [DONE]\n\n",
	": ka\r\n\r\ndata: a\r\n\r\n",
	": ka\r\rdata: a\r\r",
	"data: a\r: ka\n\n",
	"data: a\r\n: ka\n\n",
	"\xEF\xBB\xBF: ka\n\ndata: a\n\n",
	": ka\n\xEF\xBB\xBFdata: a\n\n",
	"\xEF\xBB: x\n\n",
	"event: e\nid: 1\nretry: 10\ndata\n\n",
	"\r\n\r\n\n\r:\r\n",
	"data: partial",
}

// FuzzSSEReader checks, for any input and chunking, that the events parsed
// from the filtered bytes equal those parsed from the input; that the output
// is the same whatever the chunking and buffer size; that it is a
// subsequence of the input (a CR may stand for an LF); and that whenever a
// Read returns, it has returned everything the filter would pass for the
// input consumed so far.
func FuzzSSEReader(f *testing.F) {
	for i, s := range sseSeeds {
		f.Add([]byte(s), uint64(i), uint8(i))
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint64, bufSize uint8) {
		whole := readAllSized(t, keepalive.NewSSEReader(bytes.NewReader(in)), len(in)+1)
		if diff := cmp.Diff(parseSSE(in), parseSSE(whole)); diff != "" {
			t.Fatalf("events differ (-input +filtered):\n%s\ninput %q\noutput %q", diff, in, whole)
		}
		if !isSubsequence(whole, in) {
			t.Fatalf("output %q is not a subsequence of input %q", whole, in)
		}
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		size := 1 + int(bufSize)%64
		for _, src := range []io.Reader{
			iotest.OneByteReader(bytes.NewReader(in)),
			iotest.HalfReader(bytes.NewReader(in)),
			&randomChunks{r: bytes.NewReader(in), rng: rng},
		} {
			if got := readAllSized(t, keepalive.NewSSEReader(src), size); !bytes.Equal(got, whole) {
				t.Fatalf("chunked output %q != whole output %q (buffer %d)", got, whole, size)
			}
		}
		if len(in) > 256 {
			return // the check below is quadratic
		}
		step := &stepReader{b: in}
		r := keepalive.NewSSEReader(step)
		var out []byte
		buf := make([]byte, 64)
		for {
			n, err := r.Read(buf)
			out = append(out, buf[:n]...)
			prefix := readAllSized(t, keepalive.NewSSEReader(bytes.NewReader(in[:step.used])), len(in)+1)
			if !bytes.Equal(out, prefix) {
				t.Fatalf("after %d input bytes returned %q, want %q", step.used, out, prefix)
			}
			if err == io.EOF {
				break
			}
		}
	})
}

// FuzzJSONReader checks that the output is the input without its leading
// JSON whitespace, for any chunking.
func FuzzJSONReader(f *testing.F) {
	for i, s := range []string{"", "\n\n{}", "\r\n\t [1]\n", "  ", "{\"a\":\n1}\n\n"} {
		f.Add([]byte(s), uint64(i))
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		want := bytes.TrimLeft(in, " \t\r\n")
		rng := rand.New(rand.NewPCG(seed, 1))
		for _, src := range []io.Reader{
			bytes.NewReader(in),
			iotest.OneByteReader(bytes.NewReader(in)),
			&randomChunks{r: bytes.NewReader(in), rng: rng},
		} {
			got := readAllSized(t, keepalive.NewJSONReader(src), 1+rng.IntN(32))
			if !bytes.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
	})
}

func isSubsequence(sub, s []byte) bool {
	for _, c := range sub {
		i := bytes.IndexByte(s, c)
		if c == '\r' {
			// A CR may stand for an LF (see NewSSEReader).
			if j := bytes.IndexByte(s, '\n'); j >= 0 && (i < 0 || j < i) {
				i = j
			}
		}
		if i < 0 {
			return false
		}
		s = s[i+1:]
	}
	return true
}

// FuzzLayer sends any body, as JSON and as an event stream, through the
// layer over a transport that hands it out in random chunks, and checks
// that the caller reads exactly what the reader alone makes of the whole
// input; or, when the input is all keep-alive bytes, that the wait fails
// as documented; or, when its first event is an error, that the caller
// gets the response that error names.
func FuzzLayer(f *testing.F) {
	for i, s := range append(sseSeeds, ": ka\n\nevent: error\ndata: {\"error\":{\"type\":\"overloaded_error\"}}\n\n") {
		f.Add([]byte(s), uint64(i), true)
	}
	for i, s := range []string{"", "\n\n{}", "\r\n\t [1]\n", "  ", "{\"a\":\n1}\n\n", "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n{\"id\":\"chatcmpl-1\",\"choices\":[]}"} {
		f.Add([]byte(s), uint64(i), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint64, stream bool) {
		ct := "application/json"
		var want []byte
		if stream {
			ct = "text/event-stream"
			want = readAllSized(t, keepalive.NewSSEReader(bytes.NewReader(in)), len(in)+1)
		} else {
			want = readAllSized(t, keepalive.NewJSONReader(bytes.NewReader(in)), len(in)+1)
		}
		rng := rand.New(rand.NewPCG(seed, 2))
		base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			return &http.Response{
				StatusCode:    http.StatusOK,
				Header:        http.Header{"Content-Type": {ct}},
				Body:          io.NopCloser(&randomChunks{r: bytes.NewReader(in), rng: rng}),
				ContentLength: -1,
				Request:       req,
			}, nil
		})
		req, _ := http.NewRequest(http.MethodPost, "http://api.example.test/v1/chat/completions", nil)
		resp, err := keepalive.New(keepalive.Config{}).Wrap(base).RoundTrip(req)
		if err != nil {
			if len(want) != 0 || len(in) == 0 || !errors.Is(err, keepalive.ErrClosedWhileWaiting) {
				t.Fatalf("RoundTrip: %v; input %q, want %q", err, in, want)
			}
			return
		}
		defer resp.Body.Close()
		got := readAllSized(t, resp.Body, 1+rng.IntN(64))
		if resp.StatusCode != http.StatusOK {
			// An error event first: the response it stands for.
			status, data := keepalive.ErrorEvent(want)
			if !stream || status != resp.StatusCode || !bytes.Equal(got, data) {
				t.Fatalf("status %d, body %q; want %d %q for input %q", resp.StatusCode, got, status, data, in)
			}
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("read %q through the layer, want %q; input %q", got, want, in)
		}
	})
}

// FuzzFirstEvent checks the first-event parser against the reference
// parser for any input, and that the error check never fails on it.
func FuzzFirstEvent(f *testing.F) {
	for _, s := range append(sseSeeds,
		"event: error\ndata: {\"error\":{\"type\":\"overloaded_error\"}}\n\n",
		"data: {\"error\":{\"code\":429}}\r\n\r\n",
		"event: error\rdata: {\"type\":\"rate_limit\"}\r\r",
		"\xEF\xBB\xBFdata\n\n",
		"event: x\n\ndata: {\"error\":\"quota\"}\n\n") {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		name, data, ok := keepalive.FirstEvent(in)
		var want *sseEvent
		for _, ev := range parseSSE(in).Events {
			if ev.Retry == "" {
				want = &ev
				break
			}
		}
		if ok != (want != nil) {
			t.Fatalf("FirstEvent ok = %v, reference found %v, input %q", ok, want, in)
		}
		if ok {
			if name == "" {
				name = "message"
			}
			if name != want.Type || string(data) != want.Data {
				t.Fatalf("FirstEvent = %q %q, reference %q %q, input %q", name, data, want.Type, want.Data, in)
			}
		}
		switch status, _ := keepalive.ErrorEvent(in); status {
		case 0, 402, 429, 503, 529:
		default:
			t.Fatalf("ErrorEvent status %d for %q", status, in)
		}
	})
}
