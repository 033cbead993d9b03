package llmtest

import (
	"context"
	"net"
	"net/http"
	"time"
)

// reset closes the client connection with a TCP reset before any response
// byte.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// abort flushes what was written and closes the connection mid-response.
// It does not return.
func abort(w http.ResponseWriter) {
	http.NewResponseController(w).Flush()
	panic(http.ErrAbortHandler)
}

// sleeper sleeps on one reusable timer, waking early when the request's
// context ends or the server closes.
type sleeper struct {
	ctx  context.Context
	done <-chan struct{}
	t    *time.Timer
}

func (sl *sleeper) sleep(d time.Duration) bool {
	if d <= 0 {
		return sl.ctx.Err() == nil
	}
	if sl.t == nil {
		sl.t = time.NewTimer(d)
	} else {
		sl.t.Reset(d)
	}
	select {
	case <-sl.t.C:
		return true
	case <-sl.ctx.Done():
		return false
	case <-sl.done:
		return false
	}
}

func (sl *sleeper) stop() {
	if sl.t != nil {
		sl.t.Stop()
	}
}

// keepAlive writes line every interval for d, flushing each, and reports
// whether the whole wait passed with the client still there.
func (sl *sleeper) keepAlive(w http.ResponseWriter, line string, d, interval time.Duration) bool {
	rc := http.NewResponseController(w)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	if sl.t == nil {
		sl.t = time.NewTimer(d)
	} else {
		sl.t.Reset(d)
	}
	for {
		select {
		case <-tick.C:
			if _, err := w.Write([]byte(line)); err != nil {
				return false
			}
			if rc.Flush() != nil {
				return false
			}
		case <-sl.t.C:
			return true
		case <-sl.ctx.Done():
			return false
		case <-sl.done:
			return false
		}
	}
}
