package keepalive_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/pacerhttp/pacer/keepalive"
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
// subsequence of the input; and that whenever a Read returns, it has
// returned everything the filter would pass for the input consumed so far.
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
		if i < 0 {
			return false
		}
		s = s[i+1:]
	}
	return true
}
