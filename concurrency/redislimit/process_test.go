package redislimit_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/transport"
)

// runWorker is the body of a re-executed test binary; its environment says
// what to do. It prints its result on stdout and returns the exit code.
func runWorker(mode string) int {
	env := func(k string) string { return os.Getenv("W_" + k) }
	atoi := func(k string) int { n, _ := strconv.Atoi(env(k)); return n }
	rdb := workerClient(env("REDIS"))
	defer rdb.Close()
	ttl, _ := time.ParseDuration(env("TTL"))
	lim := redislimit.New(rdb, redislimit.Config{Prefix: env("PREFIX"), Limits: concurrency.Limits{Limit: atoi("K")}, TTL: ttl, Recheck: 50 * time.Millisecond})
	defer lim.Close()
	switch mode {
	case "share":
		return shareWorker(lim, env("URL"), atoi("N"), atoi("C"), int64(atoi("START")))
	case "hold":
		for range atoi("K") {
			if _, err := lim.Acquire(context.Background(), "k", transport.Interactive); err != nil {
				fmt.Println("ERR", err)
				return 1
			}
		}
		fmt.Println("HELD")
		select {} // until killed
	}
	fmt.Println("unknown worker mode", mode)
	return 2
}

// shareWorker sends n requests to url through a gate on lim, from c
// goroutines, starting at start (Unix ns).
func shareWorker(lim *redislimit.Limiter, url string, n, c int, start int64) int {
	g := concurrency.New(concurrency.Config{Limiter: lim})
	client := &http.Client{Transport: g.Wrap(nil)}
	time.Sleep(time.Until(time.Unix(0, start)))
	var next, ok, bad atomic.Int64
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if chat(client, url) == nil {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("RESULT ok=%d bad=%d end=%d\n", ok.Load(), bad.Load(), time.Now().UnixNano())
	return 0
}

// chat sends one chat completion and reads the answer.
func chat(client *http.Client, base string) error {
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	resp, err := client.Post(base+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return err
}

// worker is a re-executed test binary.
type worker struct {
	cmd *exec.Cmd
	out *bufio.Scanner
}

func spawn(t *testing.T, mode string, env map[string]string) *worker {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"="+mode)
	for k, v := range env {
		cmd.Env = append(cmd.Env, "W_"+k+"="+v)
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &worker{cmd: cmd, out: bufio.NewScanner(out)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return w
}

// line returns the worker's next line of output.
func (w *worker) line(t *testing.T) string {
	t.Helper()
	if !w.out.Scan() {
		t.Fatalf("worker ended without output: %v", w.out.Err())
	}
	return w.out.Text()
}

func TestProcessesShareLimit(t *testing.T) {
	rs := startRedis(t)
	const (
		k       = 4
		procs   = 3
		callers = 6
		perProc = 30
		service = 50 * time.Millisecond
	)
	srv := llmtest.NewServer(llmtest.Config{
		ServiceTime: service,
		Phases:      []llmtest.Phase{{Limit: k, Duration: time.Hour}},
	})
	defer srv.Close()
	start := time.Now().Add(1500 * time.Millisecond)
	env := map[string]string{
		"REDIS": rs.Addr(), "URL": srv.URL(), "PREFIX": uniquePrefix(t),
		"K": strconv.Itoa(k), "N": strconv.Itoa(perProc), "C": strconv.Itoa(callers),
		"START": strconv.FormatInt(start.UnixNano(), 10), "TTL": "2s",
	}
	var ws []*worker
	for range procs {
		ws = append(ws, spawn(t, "share", env))
	}
	var ok, bad int
	var end int64
	for _, w := range ws {
		var o, b int
		var e int64
		line := w.line(t)
		if _, err := fmt.Sscanf(line, "RESULT ok=%d bad=%d end=%d", &o, &b, &e); err != nil {
			t.Fatalf("worker said %q: %v", line, err)
		}
		ok, bad, end = ok+o, bad+b, max(end, e)
		if err := w.cmd.Wait(); err != nil {
			t.Fatalf("worker: %v", err)
		}
	}
	st := srv.Stats()
	elapsed := time.Unix(0, end).Sub(start)
	goodput := float64(ok) / elapsed.Seconds()
	ideal := float64(k) / service.Seconds()
	t.Logf("%d processes, limit %d: %d ok, %d failed in %v; goodput %.1f/s = %.2f of ideal %.0f/s; server peak in flight %d, 429s %d",
		procs, k, ok, bad, elapsed.Round(time.Millisecond), goodput, goodput/ideal, ideal, st.PeakInFlight, st.RateLimited)
	if ok != procs*perProc || bad != 0 {
		t.Errorf("ok %d, failed %d; want %d, 0", ok, bad, procs*perProc)
	}
	if st.PeakInFlight > k {
		t.Errorf("server saw %d in flight; shared limit is %d", st.PeakInFlight, k)
	}
	if st.RateLimited != 0 {
		t.Errorf("server answered %d 429s", st.RateLimited)
	}
	if goodput < 0.6*ideal {
		t.Errorf("goodput %.1f/s is below 0.6 of the ideal %.0f/s", goodput, ideal)
	}
}

func TestKilledProcessPermitsReturn(t *testing.T) {
	rs := startRedis(t)
	const k = 3
	ttl := 600 * time.Millisecond
	prefix := uniquePrefix(t)
	w := spawn(t, "hold", map[string]string{"REDIS": rs.Addr(), "PREFIX": prefix, "K": strconv.Itoa(k), "TTL": ttl.String()})
	if line := w.line(t); line != "HELD" {
		t.Fatalf("worker said %q", line)
	}
	lim := redislimit.New(newClient(t, rs.Addr()), redislimit.Config{Prefix: prefix, Limits: concurrency.Limits{Limit: k}, TTL: ttl, Recheck: 50 * time.Millisecond, FallbackLimit: -1,
		OnStateChange: func(s redislimit.State, err error) { t.Logf("state %v: %v", s, err) }})
	defer lim.Close()

	// The worker holds every permit: none for us, and it renews them for
	// longer than their TTL.
	ctx, cancel := context.WithTimeout(context.Background(), 2*ttl)
	_, err := lim.Acquire(ctx, "k", transport.Interactive)
	cancel()
	if err == nil {
		t.Fatal("acquired a permit while another process held them all")
	}
	t.Logf("while held: %v", err)

	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// Generous bound: the permits must come back; they are expected
	// within the TTL.
	ctx, cancel = context.WithTimeout(context.Background(), 10*ttl+2*time.Second)
	defer cancel()
	var pms []concurrency.Permit
	for range k {
		pm, err := lim.Acquire(ctx, "k", transport.Interactive)
		if err != nil {
			t.Fatalf("permit %d after the holder was killed: %v", len(pms)+1, err)
		}
		pms = append(pms, pm)
	}
	t.Logf("all %d permits back %v after SIGKILL (TTL %v)", k, time.Since(killed).Round(time.Millisecond), ttl)
	for _, pm := range pms {
		pm.Release(concurrency.Feedback{Outcome: transport.OK})
	}
}
