package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/internal/loadgen"
	"github.com/pacerhttp/pacer/llmtest"
)

// goodputScenario is the fake API of the goodput benchmark: a fixed limit
// of 16, 20 ms answers, a one-way network delay of 1 ms.
func goodputScenario() llmtest.Config {
	return llmtest.Config{
		Phases:      []llmtest.Phase{{Limit: 16, Duration: time.Hour}},
		ServiceTime: 20 * time.Millisecond,
		OneWayDelay: llmtest.Delay{Min: time.Millisecond, Max: time.Millisecond},
		Seed:        1,
	}
}

// BenchmarkProxyGoodput runs the same workload (600 requests, 48 callers)
// against the same scenario through pacer in process and through the
// proxy, and reports both goodputs and their ratio (goal: at least 0.95).
// Each iteration builds fresh servers and stacks, so both start cold.
func BenchmarkProxyGoodput(b *testing.B) {
	const requests, callers = 600, 48
	var inproc, viaProxy float64
	for b.Loop() {
		// In process: the stack under the caller's client.
		srv := llmtest.NewServer(goodputScenario())
		st := pacer.New(pacer.Config{})
		s := loadgen.Start(context.Background(), loadgen.Workload{
			Client: st.Client(), URL: srv.URL() + "/chat/completions", Model: "deepseek-chat", Requests: requests, Callers: callers,
		}).Wait()
		st.CloseIdleConnections()
		srv.Close()
		if s.OK != requests {
			b.Fatalf("in process: %d of %d ok (%v)", s.OK, requests, s.Failures)
		}
		inproc += float64(s.OK) / s.Elapsed.Seconds()

		// Through the proxy: a plain client to the proxy, the stack in it.
		up := newUpstream(b, goodputScenario())
		tp := startProxy(b, up, nil)
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = callers
		s = loadgen.Start(context.Background(), loadgen.Workload{
			Client: &http.Client{Transport: tr}, URL: tp.url + "/chat/completions", Model: "deepseek-chat", Requests: requests, Callers: callers,
		}).Wait()
		tr.CloseIdleConnections()
		if s.OK != requests {
			b.Fatalf("through the proxy: %d of %d ok (%v)", s.OK, requests, s.Failures)
		}
		viaProxy += float64(s.OK) / s.Elapsed.Seconds()
	}
	n := float64(b.N)
	b.ReportMetric(inproc/n, "inproc-req/s")
	b.ReportMetric(viaProxy/n, "proxy-req/s")
	b.ReportMetric(viaProxy/inproc, "ratio")
}

// BenchmarkStreamFirstByte measures the time from sending a streamed
// request to reading its first byte, through pacer in process and through
// the proxy on loopback; the difference is what the proxy adds.
func BenchmarkStreamFirstByte(b *testing.B) {
	cfg := llmtest.Config{ServiceTime: time.Millisecond, StreamChunks: 4}
	body := chatBody("first byte", true)
	measure := func(b *testing.B, client *http.Client, url string) {
		var total time.Duration
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, url+"/chat/completions", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			begin := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var one [1]byte
			if _, err := io.ReadFull(resp.Body, one[:]); err != nil {
				b.Fatal(err)
			}
			total += time.Since(begin)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		b.ReportMetric(float64(total.Microseconds())/float64(b.N), "first-byte-µs")
	}
	b.Run("inproc", func(b *testing.B) {
		srv := llmtest.NewServer(cfg)
		defer srv.Close()
		st := pacer.New(pacer.Config{})
		defer st.CloseIdleConnections()
		measure(b, st.Client(), srv.URL())
	})
	b.Run("proxy", func(b *testing.B) {
		up := newUpstream(b, cfg)
		tp := startProxy(b, up, nil)
		measure(b, newClient(b), tp.url)
	})
}
