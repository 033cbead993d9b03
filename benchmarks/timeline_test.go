package benchmarks

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/llmtest"
)

// timelineWindow is the width of one column of BenchmarkTimeline.
const timelineWindow = 250 * time.Millisecond

// BenchmarkTimeline runs the matrix's scenarios with the oracle and
// with pacer's defaults and logs, for each, the server's mean requests in
// flight in every 250 ms of the run: where a row's goodput goes missing
// (a cold start, the climb after a limit rose, probes that cost
// requests). Pick a row as in BenchmarkMatrix, with -benchtime=1x and -v:
//
//	go test -run='^$' -bench='Timeline/step16-6-24/net1-5ms/json' -benchtime=1x -v ./benchmarks
func BenchmarkTimeline(b *testing.B) {
	for _, sc := range matrixScenarios {
		for _, stream := range []bool{false, true} {
			mode := "json"
			if stream {
				mode = "stream"
			}
			b.Run(sc.name+"/"+mode, func(b *testing.B) {
				var lines []string
				for _, c := range matrixContenders[:2] { // the oracle, pacer
					var tl timeline
					r := runMatrix(b, sc, stream, tl.sampling(c))
					lines = append(lines, fmt.Sprintf("%-6s %6.1f req/s:%s", c.name, r.goodput, tl.String()))
				}
				b.Logf("server's mean in flight per %v:\n%s", timelineWindow, strings.Join(lines, "\n"))
			})
		}
	}
}

// timeline samples the server's requests in flight every 5 ms and keeps
// their mean per window.
type timeline struct {
	mu    sync.Mutex
	sum   []float64
	count []int
}

// sampling returns c with the sampler running beside each client it makes.
func (tl *timeline) sampling(c matrixContender) matrixContender {
	return matrixContender{name: c.name, client: func(pool *http.Transport, srv *llmtest.Server) (*http.Client, func()) {
		done := make(chan struct{})
		var wg sync.WaitGroup
		start := time.Now()
		wg.Go(func() {
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
				}
				tl.add(int(time.Since(start)/timelineWindow), srv.Stats().InFlight)
			}
		})
		client, stop := c.client(pool, srv)
		return client, func() { stop(); close(done); wg.Wait() }
	}}
}

func (tl *timeline) add(window, inFlight int) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for len(tl.sum) <= window {
		tl.sum, tl.count = append(tl.sum, 0), append(tl.count, 0)
	}
	tl.sum[window] += float64(inFlight)
	tl.count[window]++
}

func (tl *timeline) String() string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var s strings.Builder
	for i := range tl.sum {
		if tl.count[i] > 0 {
			fmt.Fprintf(&s, " %5.1f", tl.sum[i]/float64(tl.count[i]))
		}
	}
	return s.String()
}
