package llmtest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pacerhttp/pacer/llmtest"
)

// write is one Write a handler made, with the fake time since the request
// started.
type write struct {
	at   time.Duration
	data string
}

// recorder is a ResponseWriter that stamps every write with the bubble's
// clock, for tests of timing under testing/synctest.
type recorder struct {
	start  time.Time
	header http.Header
	status int
	writes []write
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	r.writes = append(r.writes, write{at: time.Since(r.start), data: string(b)})
	return len(b), nil
}

func (r *recorder) Flush() {}

// body returns everything written.
func (r *recorder) body() string {
	var b strings.Builder
	for _, w := range r.writes {
		b.WriteString(w.data)
	}
	return b.String()
}

// end returns the time of the last write.
func (r *recorder) end() time.Duration {
	if len(r.writes) == 0 {
		return 0
	}
	return r.writes[len(r.writes)-1].at
}

// serve runs one request through h at once (inside a synctest bubble the
// clock advances through every sleep) and returns what it wrote.
func serve(h *llmtest.Handler, path string, header http.Header, body string) *recorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	rec := &recorder{start: time.Now(), header: http.Header{}}
	h.ServeHTTP(rec, req)
	return rec
}

// serveChat is serve for /v1/chat/completions.
func serveChat(h *llmtest.Handler, body string) *recorder {
	return serve(h, "/v1/chat/completions", nil, body)
}
