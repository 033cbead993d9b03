package keepalive_test

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

// TestRetryAfterClosedWhileWaiting puts the retry layer in front of the
// filter: the first attempt is closed while it waits to be scheduled, and
// the call succeeds on the next attempt.
func TestRetryAfterClosedWhileWaiting(t *testing.T) {
	const answer = `{"id":"chatcmpl-1","object":"chat.completion"}`
	var calls atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			keepAliveThenAbort("application/json", "\n")(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "\n\n"+answer)
	})
	var closes atomic.Int32
	rt := transport.Chain(counted(srv.Client().Transport, &closes),
		retry.New(retry.Config{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}).Wrap,
		keepalive.New(keepalive.Config{}).Wrap,
	)
	req, rec := transport.EnsureRecord(mustRequest(t, srv.URL))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(got) != answer {
		t.Fatalf("body = %q, %v", got, err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("server saw %d requests, want 2", n)
	}
	wantCloses(t, &closes, 2) // the failed attempt's body and the answer's
	f := rec.Facts()
	if f.Attempts != 2 || f.ScheduleWait <= 0 {
		t.Fatalf("facts = %+v, want 2 attempts and a schedule wait", f)
	}
}
