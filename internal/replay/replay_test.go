package replay_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/replay"
)

// opaqueBody hides the concrete reader so http.NewRequest sets no GetBody.
type opaqueBody struct {
	r      io.Reader
	closes int
	read   int
}

func (b *opaqueBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}
func (b *opaqueBody) Close() error { b.closes++; return nil }

func TestReplayableBuffersSmallBody(t *testing.T) {
	payload := []byte(`{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}`)
	body := &opaqueBody{r: bytes.NewReader(payload)}
	req, _ := http.NewRequest("POST", "http://example.invalid/v1/chat/completions", body)
	if req.GetBody != nil {
		t.Fatal("test setup: request must not have GetBody")
	}
	out, ok, err := replay.Prepare(req, 1<<10)
	if err != nil || !ok {
		t.Fatalf("Replayable = %v, %v", ok, err)
	}
	if out == req || req.GetBody != nil || req.Body != body {
		t.Fatal("the caller's request was modified")
	}
	if body.closes != 1 {
		t.Fatalf("original body closed %d times, want 1", body.closes)
	}
	if out.ContentLength != int64(len(payload)) {
		t.Fatalf("ContentLength = %d", out.ContentLength)
	}

	// Every attempt, the first and each rewind, sends the same bytes to a real server.
	var received [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		received = append(received, b)
	}))
	defer srv.Close()
	out.URL.Host = strings.TrimPrefix(srv.URL, "http://")
	attempt := out
	for i := 0; i < 3; i++ {
		if i > 0 {
			if attempt, err = replay.Rewind(out); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := srv.Client().Do(attempt)
		if err != nil {
			t.Fatal(err)
		}
		httpbody.DiscardResponse(resp)
	}
	for i, got := range received {
		if !bytes.Equal(got, payload) {
			t.Fatalf("attempt %d sent %q, want %q", i+1, got, payload)
		}
	}
	if len(received) != 3 {
		t.Fatalf("server got %d requests", len(received))
	}
}

func TestReplayableKeepsGetBody(t *testing.T) {
	req, _ := http.NewRequest("POST", "http://example.invalid/", strings.NewReader("abc"))
	out, ok, err := replay.Prepare(req, 0)
	if err != nil || !ok || out != req {
		t.Fatalf("Replayable with GetBody = %v, %v, %v; want the request as is", out == req, ok, err)
	}
	again, err := replay.Rewind(out)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(again.Body); string(b) != "abc" {
		t.Fatalf("rewound body = %q", b)
	}
}

func TestReplayableNoBody(t *testing.T) {
	for _, body := range []io.Reader{nil, http.NoBody} {
		req, _ := http.NewRequest("GET", "http://example.invalid/", body)
		out, ok, err := replay.Prepare(req, 0)
		if err != nil || !ok || out != req {
			t.Fatalf("Prepare(no body) = %v, %v", ok, err)
		}
		again, err := replay.Rewind(out)
		if err != nil || again == req {
			t.Fatalf("Rewind(no body) = %v (must be a copy), %v", again == req, err)
		}
	}
}

func TestReplayableLargeBodyStreamsOnce(t *testing.T) {
	const limit = 1 << 10
	payload := make([]byte, 64<<10)
	rand.Read(payload)
	body := &opaqueBody{r: bytes.NewReader(payload)}
	req, _ := http.NewRequest("POST", "http://example.invalid/", body)
	out, ok, err := replay.Prepare(req, limit)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatal("a body over the limit must not be replayable")
	}
	if body.read > limit+1 {
		t.Fatalf("read %d bytes ahead, want at most limit+1 = %d", body.read, limit+1)
	}
	if _, err := replay.Rewind(out); !errors.Is(err, replay.ErrNotReplayable) {
		t.Fatalf("Rewind = %v, want ErrNotReplayable", err)
	}
	got, err := io.ReadAll(iotest.HalfReader(out.Body))
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("streamed body differs (len %d, err %v)", len(got), err)
	}
	out.Body.Close()
	if body.closes != 1 {
		t.Fatalf("original closed %d times, want 1", body.closes)
	}
}

func TestReplayableReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	body := &opaqueBody{r: iotest.ErrReader(boom)}
	req, _ := http.NewRequest("POST", "http://example.invalid/", body)
	_, _, err := replay.Prepare(req, 1<<10)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want wrapped %v", err, boom)
	}
	if body.closes != 1 {
		t.Fatal("body not closed after a read error")
	}
}

func TestReplayableEmptyUnknownBody(t *testing.T) {
	body := &opaqueBody{r: strings.NewReader("")}
	req, _ := http.NewRequest("POST", "http://example.invalid/", body)
	out, ok, err := replay.Prepare(req, 1<<10)
	if err != nil || !ok || out.Body != http.NoBody || out.ContentLength != 0 {
		t.Fatalf("empty body: ok=%v err=%v body=%v len=%d", ok, err, out.Body, out.ContentLength)
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestBufferBoundHeld checks that a body of unknown length is buffered
// within its bound: a body that fits costs about its size, one longer than
// the bound about the bound (not a doubled buffer), and both still yield
// every byte.
func TestBufferBoundHeld(t *testing.T) {
	const bound = 4 << 20
	for _, size := range []int{3 << 20, 5 << 20} {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		req, _ := http.NewRequest(http.MethodPost, "http://h/", io.NopCloser(iotest.HalfReader(bytes.NewReader(data))))
		req.ContentLength = -1
		req.GetBody = nil
		var out *http.Request
		var ok bool
		used := allocated(func() {
			var err error
			out, ok, err = replay.Prepare(req, bound)
			if err != nil {
				t.Fatal(err)
			}
		})
		if limit := uint64(min(size, bound)) + 1<<20; used > limit {
			t.Errorf("%d bytes: Prepare allocated %d bytes, want at most %d", size, used, limit)
		}
		if ok != (size <= bound) {
			t.Errorf("%d bytes: replayable %v", size, ok)
		}
		got, err := io.ReadAll(out.Body)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: body read back %d bytes, %v", size, len(got), err)
		}
		if ok {
			again, _ := out.GetBody()
			if b, _ := io.ReadAll(again); !bytes.Equal(b, data) {
				t.Errorf("%d bytes: GetBody gave %d bytes, want the body", size, len(b))
			}
		}
	}
}

// TestSmallBodyCostsItsSize checks that a small body of unknown length is
// not kept in a piece far larger than itself.
func TestSmallBodyCostsItsSize(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 2000)
	req, _ := http.NewRequest(http.MethodPost, "http://h/", io.NopCloser(bytes.NewReader(data)))
	req.ContentLength, req.GetBody = -1, nil
	used := allocated(func() {
		if _, ok, err := replay.Prepare(req, replay.DefaultBuffer); !ok || err != nil {
			t.Fatal(ok, err)
		}
	})
	if used > 16<<10 {
		t.Errorf("a 2000-byte body cost %d bytes to keep, want at most 16 KiB", used)
	}
}
