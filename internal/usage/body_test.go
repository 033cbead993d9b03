package usage

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

type closeCounter struct {
	io.Reader
	closes int
}

func (c *closeCounter) Close() error { c.closes++; return nil }

func response(contentType, body string) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &http.Response{StatusCode: 200, Header: h, Body: &closeCounter{Reader: strings.NewReader(body)}}
}

func TestBodyPassesThrough(t *testing.T) {
	for _, tc := range []struct {
		name, ct, body string
		want           Usage
	}{
		{"json", "application/json", `{"model":"m","usage":{"prompt_tokens":1,"completion_tokens":2}}`, u("m", 1, 2, 3)},
		{"no content type", "", `{"model":"m","usage":{"prompt_tokens":1,"completion_tokens":2}}`, u("m", 1, 2, 3)},
		{"sse", "text/event-stream; charset=utf-8", openAIStream, u("deepseek-chat", 3, 4, 7)},
		{"sse upper case", " Text/Event-Stream ", anthropicStream, u("claude-x", 25, 15, 40)},
		// A stream scanned as JSON finds nothing, and is still passed whole.
		{"sse as json", "application/json", openAIStream, Usage{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := response(tc.ct, tc.body)
			cc := resp.Body.(*closeCounter)
			b := NewBody(resp)
			if resp.Body != cc {
				t.Fatal("NewBody changed resp")
			}
			got, err := io.ReadAll(iotest.OneByteReader(b))
			if err != nil || string(got) != tc.body {
				t.Fatalf("read %q, %v", got, err)
			}
			if err := b.Close(); err != nil || cc.closes != 1 {
				t.Fatalf("Close: %v, %d closes", err, cc.closes)
			}
			if u := b.Usage(); u != tc.want {
				t.Fatalf("usage %+v, want %+v", u, tc.want)
			}
		})
	}
}

// Close while a Read is blocked, and Usage from a third goroutine, as the
// done hook of an early Close does: -race checks the lock.
func TestBodyConcurrentClose(t *testing.T) {
	pr, pw := io.Pipe()
	var b Body
	b.Init(pr, true)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, _ = pw.Write([]byte(openAIStream))
		_ = pw.Close()
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, 7)
		for {
			if _, err := b.Read(buf); err != nil {
				return
			}
		}
	}()
	_ = b.Usage()
	wg.Wait()
	if got, want := b.Usage(), u("deepseek-chat", 3, 4, 7); got != want {
		t.Fatalf("usage %+v, want %+v", got, want)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

type waitBody struct {
	io.ReadCloser
}

func (waitBody) ScheduleWait() time.Duration             { return 3 * time.Second }
func (waitBody) QuotaExhausted() (exhausted, known bool) { return true, true }

func TestBodyPassesOnInterfaces(t *testing.T) {
	var b Body
	b.Init(waitBody{io.NopCloser(strings.NewReader(""))}, false)
	if d := b.ScheduleWait(); d != 3*time.Second {
		t.Fatalf("ScheduleWait %v", d)
	}
	if e, k := b.QuotaExhausted(); !e || !k {
		t.Fatalf("QuotaExhausted %v %v", e, k)
	}
	b.Init(io.NopCloser(strings.NewReader("")), false)
	if d := b.ScheduleWait(); d != 0 {
		t.Fatalf("ScheduleWait %v", d)
	}
	if e, k := b.QuotaExhausted(); e || k {
		t.Fatalf("QuotaExhausted %v %v", e, k)
	}
}

func TestBodyReadAllocs(t *testing.T) {
	chunk := []byte(`data: {"model":"m","choices":[{"delta":{"content":"xxxxxxxxxxxx"}}],"usage":null}` + "\n\n")
	r := &repeatReader{chunk: chunk}
	var b Body
	b.Init(io.NopCloser(r), true)
	buf := make([]byte, 64)
	_, _ = b.Read(buf) // the model string is kept once
	if n := testing.AllocsPerRun(1000, func() { _, _ = b.Read(buf) }); n != 0 {
		t.Fatalf("%v allocations per Read, want 0", n)
	}
}

// repeatReader yields chunk forever.
type repeatReader struct {
	chunk []byte
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.chunk[r.off:])
	r.off = (r.off + n) % len(r.chunk)
	return n, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestReadRequest(t *testing.T) {
	buf := make([]byte, 16)
	doc := `{"model":"m","stream":true,"max_tokens":5,"messages":[` + strings.Repeat(`{"role":"user","content":"x"},`, 1000) + `{}]}`
	r := strings.NewReader(doc)
	got := ReadRequest(r, buf, 1<<20)
	if want := (Request{Model: "m", Stream: true, HasStream: true, MaxTokens: 5, HasMaxTokens: true}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if r.Len() < len(doc)-64 {
		t.Fatalf("read %d bytes: did not stop once all was known", len(doc)-r.Len())
	}
	// The limit bounds what is read: the model after it is not seen.
	r = strings.NewReader(`{"messages":[` + strings.Repeat(`"x",`, 100) + `"y"],"model":"late"}`)
	if got := ReadRequest(r, buf, 200); got.Model != "" {
		t.Fatalf("read past the limit: %+v", got)
	}
	if got := ReadRequest(r, buf, 0); got != (Request{}) {
		t.Fatalf("zero limit: %+v", got)
	}
	if got := ReadRequest(io.MultiReader(strings.NewReader(`{"model":"m"`), errReader{errors.New("boom")}), buf, 1<<20); got.Model != "m" {
		t.Fatalf("error mid-body: %+v", got)
	}
}
