package keepalive_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/pacerhttp/pacer/keepalive"
)

// genStream is a random event stream together with, for each of its bytes,
// whether the filter must pass it.
type genStream struct {
	in   []byte
	keep []bool
	cr   map[int]bool // bytes that pass as a CR instead of an LF
}

// want returns the bytes of in[:k] that must pass.
func (g genStream) want(k int) []byte {
	var out []byte
	for i := range k {
		switch {
		case g.keep[i] && g.cr[i]:
			out = append(out, '\r')
		case g.keep[i]:
			out = append(out, g.in[i])
		}
	}
	return out
}

var (
	fieldLines = []string{
		"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}",
		"data:no space", "data:  two spaces", "data", "data:", "data: [DONE]",
		"event: ping", "event:", "event", "id: 42", "id", "id: a\x00b", "retry: 1500",
		"retry: soon", "foo: bar", "x", "data: a: b: c", "\xEF\xBB\xBFdata: bom inside",
	}
	commentLines = []string{":", ": keep-alive", ":ping", ":: double", ": data: not a field"}
	terminators  = []string{"\n", "\r\n", "\r"}
)

// randomStream builds a stream of events with comments and blank lines
// inserted anywhere between lines, random terminators, sometimes a BOM and
// sometimes an incomplete last line.
func randomStream(rng *rand.Rand) genStream {
	g := genStream{cr: map[int]bool{}}
	add := func(s string, keep bool) {
		g.in = append(g.in, s...)
		for range len(s) {
			g.keep = append(g.keep, keep)
		}
	}
	if rng.IntN(10) == 0 {
		add("\xEF\xBB\xBF", true)
	}
	hasField := false
	prevTerm := ""
	outCR := false // the last byte passed is a CR
	lines := rng.IntN(40)
	for l := range lines {
		term := terminators[rng.IntN(len(terminators))]
		last := l == lines-1
		if last && rng.IntN(5) == 0 {
			term = "" // incomplete last line
		}
		switch k := rng.IntN(10); {
		case k < 4: // field line
			line := fieldLines[rng.IntN(len(fieldLines))]
			if line[0] == 0xEF && !slices.Contains(g.keep, true) && len(g.in) > 0 {
				// The filter keeps the last dropped terminator before a
				// first passing line that may start with a BOM.
				g.keep[len(g.in)-1] = true
			}
			add(line+term, true)
			hasField = true
			outCR = term == "\r"
		case k < 7: // comment line
			add(commentLines[rng.IntN(len(commentLines))]+term, false)
		default: // blank line
			if term == "" {
				continue
			}
			if prevTerm == "\r" && term == "\n" {
				term = "\r\n" // a lone CR then LF would be one terminator
			}
			if hasField && term == "\n" && outCR {
				g.cr[len(g.in)] = true // the LF would join the CR before it
			}
			if hasField {
				outCR = term == "\r" || g.cr[len(g.in)]
			}
			add(term, hasField)
			hasField = false
		}
		prevTerm = term
	}
	return g
}

// chunkings are the ways the property test splits the input into Reads.
var chunkings = []struct {
	name string
	wrap func(io.Reader, *rand.Rand) io.Reader
}{
	{"whole", func(r io.Reader, _ *rand.Rand) io.Reader { return r }},
	{"one-byte", func(r io.Reader, _ *rand.Rand) io.Reader { return iotest.OneByteReader(r) }},
	{"half", func(r io.Reader, _ *rand.Rand) io.Reader { return iotest.HalfReader(r) }},
	{"data-err", func(r io.Reader, _ *rand.Rand) io.Reader { return iotest.DataErrReader(r) }},
	{"random", func(r io.Reader, rng *rand.Rand) io.Reader { return &randomChunks{r: r, rng: rng} }},
}

// randomChunks returns Reads of random sizes, sometimes empty.
type randomChunks struct {
	r   io.Reader
	rng *rand.Rand
}

func (c *randomChunks) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n := c.rng.IntN(min(len(p), 64) + 1)
	if n == 0 {
		return 0, nil
	}
	return c.r.Read(p[:n])
}

// readAllSized reads r to EOF with a buffer of the given size. The reader
// may return 0, nil whenever its source does (randomChunks does, half of
// the time with a one-byte buffer), so only a very long run of them, which
// bounded inputs cannot cause, fails the test.
func readAllSized(t testing.TB, r io.Reader, size int) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, size)
	for zero := 0; ; {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if n > 0 {
			zero = 0
		} else if zero++; zero > 1<<20 {
			t.Fatal("too many empty reads in a row")
		}
	}
}

func TestSSEReaderProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 1500 {
		g := randomStream(rng)
		want := g.want(len(g.in))
		ref := parseSSE(g.in)
		for _, ch := range chunkings {
			size := 1 + rng.IntN(300)
			got := readAllSized(t, keepalive.NewSSEReader(ch.wrap(bytes.NewReader(g.in), rng)), size)
			if !bytes.Equal(got, want) {
				t.Fatalf("iter %d, %s, buf %d:\ninput %q\ngot   %q\nwant  %q", iter, ch.name, size, g.in, got, want)
			}
			if ch.name != "whole" {
				continue // same bytes as whole, checked above
			}
			if diff := cmp.Diff(ref, parseSSE(got)); diff != "" {
				t.Fatalf("iter %d: events differ (-input +filtered):\n%s\ninput %q", iter, diff, g.in)
			}
		}
	}
}

// stepReader yields one byte per Read and counts how many it has yielded.
type stepReader struct {
	b    []byte
	used int
}

func (s *stepReader) Read(p []byte) (int, error) {
	if s.used == len(s.b) {
		return 0, io.EOF
	}
	p[0] = s.b[s.used]
	s.used++
	return 1, nil
}

// TestSSEReaderHoldsNothingBack checks that whenever a Read returns, every
// passing byte the filter has consumed has been returned.
func TestSSEReaderHoldsNothingBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		g := randomStream(rng)
		src := &stepReader{b: g.in}
		r := keepalive.NewSSEReader(src)
		var out []byte
		buf := make([]byte, 64)
		for {
			n, err := r.Read(buf)
			out = append(out, buf[:n]...)
			if want := g.want(src.used); !bytes.Equal(out, want) {
				t.Fatalf("after %d input bytes: returned %q, want %q (input %q)", src.used, out, want, g.in)
			}
			if err == io.EOF {
				break
			}
		}
	}
}

func TestSSEReaderCases(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"keep-alives before first event", ": keep-alive\n\n: keep-alive\n\ndata: x\n\n", "data: x\n\n"},
		{"comment inside event", "data: a\n: keep-alive\ndata: b\n\n", "data: a\ndata: b\n\n"},
		{"comment between field and dispatch", "data: a\n: ka\n\n", "data: a\n\n"},
		{"extra blanks dropped", "\n\n\ndata: a\n\n\n\ndata: b\n\n", "data: a\n\ndata: b\n\n"},
		{"CRLF", ": ka\r\n\r\ndata: a\r\n\r\n: ka\r\n\r\n", "data: a\r\n\r\n"},
		{"lone CR", ": ka\r\rdata: a\r\r: ka\r\r", "data: a\r\r"},
		{"comment after lone CR field dropped", "data: a\r: ka\n\n", "data: a\r\r"},
		{"lone CR field, comments, CRLF blank", "data: a\r: ka\r\n: kb\n\r\n", "data: a\r\r\n"},
		{"comment after CRLF field dropped", "data: a\r\n: ka\n\n", "data: a\r\n\n"},
		{"incomplete field passes", ": ka\n\ndata: partial", "data: partial"},
		{"incomplete comment dropped", "data: a\n\n: partial", "data: a\n\n"},
		{"only keep-alives", ": keep-alive\n\n: keep-alive\n\n", ""},
		{"BOM then comment", "\xEF\xBB\xBF: ka\n\ndata: a\n\n", "\xEF\xBB\xBFdata: a\n\n"},
		{"BOM-led line after keep-alives", ": ka\n\n\xEF\xBB\xBFdata: a\n\n", "\n\xEF\xBB\xBFdata: a\n\n"},
		{"partial BOM is a field", "\xEF\xBB: x\n\n", "\xEF\xBB: x\n\n"},
		{"colon not first", "x: y\n\n", "x: y\n\n"},
		{"space before colon is a field", " : y\n\n", " : y\n\n"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ch := range chunkings {
				rng := rand.New(rand.NewPCG(5, 6))
				got := readAllSized(t, keepalive.NewSSEReader(ch.wrap(strings.NewReader(tt.in), rng)), 7)
				if string(got) != tt.want {
					t.Errorf("%s: got %q, want %q", ch.name, got, tt.want)
				}
				if diff := cmp.Diff(parseSSE([]byte(tt.in)), parseSSE(got)); diff != "" {
					t.Errorf("%s: events differ:\n%s", ch.name, diff)
				}
			}
		})
	}
}

// TestSSEReaderCRAcrossReads is the rule that a CR ending one Read and an LF
// starting the next are one terminator, for a dropped and a passed line.
func TestSSEReaderCRAcrossReads(t *testing.T) {
	for _, tt := range []struct {
		chunks []string
		want   string
	}{
		{[]string{": ka\r", "\n", "data: a\r", "\n", "\r", "\n"}, "data: a\r\n\r\n"},
		{[]string{"data: a\r", "\n\r", "\n: ka\r", "\n\r", "\n"}, "data: a\r\n\r\n"},
		{[]string{"data: a\r", "\r", "\n"}, "data: a\r\r\n"},
		{[]string{": ka\r", "\n\xEF\xBB\xBFdata: a\n\n"}, "\n\xEF\xBB\xBFdata: a\n\n"},
		{[]string{": ka\r", "\xEF\xBB\xBFdata: a\n\n"}, "\r\xEF\xBB\xBFdata: a\n\n"},
	} {
		for _, size := range []int{1, 2, 64} {
			got := readAllSized(t, keepalive.NewSSEReader(&chunkReader{chunks: slices.Clone(tt.chunks)}), size)
			if string(got) != tt.want {
				t.Errorf("chunks %q, buffer %d: got %q, want %q", tt.chunks, size, got, tt.want)
			}
		}
	}
}

// chunkReader returns its chunks one per Read.
type chunkReader struct {
	chunks []string
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	if c.chunks[0] == "" {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func TestSSEReaderErrorAfterData(t *testing.T) {
	boom := errors.New("connection reset")
	r := keepalive.NewSSEReader(io.MultiReader(strings.NewReader(": ka\n\ndata: a\n"), iotest.ErrReader(boom)))
	got, err := io.ReadAll(r)
	if !errors.Is(err, boom) || string(got) != "data: a\n" {
		t.Fatalf("ReadAll = %q, %v; want the passing bytes, then %v", got, err, boom)
	}
	// An error that arrives with only dropped bytes is returned at once.
	r = keepalive.NewSSEReader(iotest.DataErrReader(io.MultiReader(strings.NewReader(": ka\n"), iotest.ErrReader(boom))))
	if n, err := r.Read(make([]byte, 16)); n != 0 || !errors.Is(err, boom) {
		t.Fatalf("Read = %d, %v; want 0, %v", n, err, boom)
	}
	if n, err := keepalive.NewSSEReader(strings.NewReader("data")).Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v", n, err)
	}
}

// loopReader yields the same bytes forever.
type loopReader struct {
	b   []byte
	off int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.b[l.off:])
		n += c
		l.off = (l.off + c) % len(l.b)
	}
	return n, nil
}

func TestReadersAllocateNothingPerRead(t *testing.T) {
	stream := []byte(": keep-alive\n\n" + sseEvents(20))
	buf := make([]byte, 700)
	sse := keepalive.NewSSEReader(&loopReader{b: stream})
	if a := testing.AllocsPerRun(1000, func() { _, _ = sse.Read(buf) }); a != 0 {
		t.Errorf("SSE reader: %v allocations per Read, want 0", a)
	}
	js := keepalive.NewJSONReader(&loopReader{b: []byte("\n\n{\"a\":1}  ")})
	if a := testing.AllocsPerRun(1000, func() { _, _ = js.Read(buf) }); a != 0 {
		t.Errorf("JSON reader: %v allocations per Read, want 0", a)
	}
}

// sseEvents returns n chat.completion.chunk events as an API streams them.
func sseEvents(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"+
			"\"model\":\"deepseek-chat\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"token %d \"},\"finish_reason\":null}]}\n\n", i)
	}
	return b.String()
}
