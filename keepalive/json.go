package keepalive

import (
	"bytes"
	"io"
	"math"
)

var newline = []byte{'\n'}

// NewJSONReader returns a reader that yields r's bytes without the JSON
// whitespace (space, tab, CR, LF) that comes before the first other byte:
// the blank lines a server sends to keep a non-streaming response open while
// the request waits to be scheduled. Every byte from the first non-whitespace
// byte on passes unchanged; after it, Read is a plain call to r.Read.
//
// A JSON document may begin with whitespace, so removing it changes no value
// a decoder reads. The reader filters in place in the caller's buffer and
// allocates nothing per Read. While it has seen only whitespace, a Read that
// would return no bytes reads again rather than return 0, nil. An error from
// r is returned after the bytes that came with it.
//
// The reader is not safe for concurrent use, like most readers.
func NewJSONReader(r io.Reader) io.Reader {
	return &jsonReader{r: r}
}

// jsonFilter is the state of the leading-whitespace filter, kept apart from
// any reader so that it can be embedded by value.
type jsonFilter struct {
	dropped int64 // whitespace bytes dropped
	lines   int32 // newlines among them: the keep-alives, as units (it stops at math.MaxInt32)
	started bool  // the first non-whitespace byte has passed
}

// units is the number of keep-alives dropped: the empty lines, or one for
// whitespace that ended none.
func (f *jsonFilter) units() int {
	if f.lines == 0 && f.dropped > 0 {
		return 1
	}
	return int(f.lines)
}

type jsonReader struct {
	r io.Reader
	f jsonFilter
}

func (j *jsonReader) Read(p []byte) (int, error) {
	return j.f.read(j.r, p)
}

func (f *jsonFilter) read(r io.Reader, p []byte) (int, error) {
	if f.started || len(p) == 0 {
		return r.Read(p)
	}
	for {
		n, err := r.Read(p)
		if n < 0 || n > len(p) {
			return 0, io.ErrShortBuffer
		}
		i := 0
		for i < n && isJSONSpace(p[i]) {
			i++
		}
		f.dropped += int64(i)
		f.lines = int32(min(int64(f.lines)+int64(bytes.Count(p[:i], newline)), math.MaxInt32))
		if i < n {
			f.started = true
			if i > 0 {
				n = copy(p, p[i:n])
			}
			return n, err
		}
		if err != nil || n == 0 {
			return 0, err
		}
	}
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t'
}
