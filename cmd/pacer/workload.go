package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/internal/loadgen"
	"github.com/pacerhttp/pacer/llmtest"
)

// contender is one client that runs the workload.
type contender struct {
	name    string
	client  *http.Client
	counter *loadgen.Counter
	stack   *pacer.Stack    // the pacer contender only
	server  *llmtest.Server // its own fake API, nil against a real endpoint
	started time.Time       // when its fake API started

	run     *loadgen.Run
	summary loadgen.Summary

	interactive bool // progress is redrawn in place
	reported    bool // its finished line was shown
}

// The fake API of the demo: the limit moves 16 → 6 → 24 every 2 s, an answer
// takes 40 ms, and more than 30 429s within a second halve the limit for 2 s.
func demoConfig(seed int64) llmtest.Config {
	return llmtest.Config{
		Phases: []llmtest.Phase{
			{Limit: 16, Duration: 2 * time.Second},
			{Limit: 6, Duration: 2 * time.Second},
			{Limit: 24, Duration: 2 * time.Second},
		},
		ServiceTime: 40 * time.Millisecond,
		Punishment:  llmtest.Punishment{Threshold: 30, Window: time.Second, Factor: 0.5, Duration: 2 * time.Second},
		Seed:        seed,
	}
}

// newBaseTransport is the base transport of every contender, the same for
// all so that the comparison is of what sits above it.
func newBaseTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = pacer.DefaultMaxIdleConnsPerHost
	return t
}

func newPacerContender(counter *loadgen.Counter) *contender {
	st := pacer.New(pacer.Config{Base: counter})
	return &contender{name: "pacer", client: st.Client(), counter: counter, stack: st}
}

func runWorkload(ctx context.Context, o *options) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var cs []*contender
	chatURL := o.baseURL + "/chat/completions"
	if o.baseURL == "" {
		cfg := demoConfig(o.seed)
		mk := func(name string, client func(*loadgen.Counter) *http.Client) *contender {
			c := &contender{name: name, counter: &loadgen.Counter{Base: newBaseTransport()}, started: time.Now()}
			c.server = llmtest.NewServer(cfg)
			c.client = client(c.counter)
			return c
		}
		bare := mk("bare http.Client", func(c *loadgen.Counter) *http.Client { return &http.Client{Transport: c} })
		rh := mk("go-retryablehttp", func(c *loadgen.Counter) *http.Client {
			rc := retryablehttp.NewClient()
			rc.Logger = nil
			rc.HTTPClient = &http.Client{Transport: c}
			return rc.StandardClient()
		})
		counter := &loadgen.Counter{Base: newBaseTransport()}
		pc := newPacerContender(counter)
		pc.started = time.Now()
		pc.server = llmtest.NewServer(cfg)
		cs = []*contender{bare, rh, pc}
		defer func() {
			for _, c := range cs {
				c.server.Close()
			}
		}()
		o.out.printf("Fake API on loopback, one per client: limit 16 → 6 → 24 every 2s, 40ms per answer,\n"+
			"more than 30 429s in 1s halve the limit for 2s. %d requests per client, %d callers each.\n\n", o.requests, o.callers)
	} else {
		if err := preflight(ctx, o); err != nil {
			return err
		}
		counter := &loadgen.Counter{Base: newBaseTransport(), MaxAttempts: int64(o.maxRequests)}
		cs = []*contender{newPacerContender(counter)}
		o.out.printf("%s, model %s, key from %s: %d requests, %d callers, through pacer only.\n"+
			"Caps: %d requests sent (retries included), %d tokens.\n\n",
			o.baseURL, o.model, o.keyVar, o.requests, o.callers, o.maxRequests, o.maxTokens)
	}
	defer func() {
		for _, c := range cs {
			c.counter.CloseIdleConnections()
		}
	}()

	var samples []sample
	var smu sync.Mutex
	for _, c := range cs {
		w := loadgen.Workload{
			Client: c.client, URL: chatURL, APIKey: o.apiKey, Model: o.model,
			Requests: o.requests, Callers: o.callers, Stream: o.stream,
		}
		if c.server != nil {
			w.URL = c.server.URL() + "/chat/completions"
		} else {
			w.MaxTokens = answerTokens
			w.TokenBudget = int64(o.maxTokens)
			w.Counter = c.counter
		}
		c.interactive = o.out.interactive
		c.run = loadgen.Start(ctx, w)
	}
	begin := time.Now()
	pc := cs[len(cs)-1]
	sampleNow := func() {
		s := sample{t: time.Since(begin), serverLimit: -1}
		if pc.server != nil {
			s.serverLimit = pc.server.Stats().Limit
		}
		s.learned, s.inFlight, _ = gateStats(pc.stack)
		smu.Lock()
		samples = append(samples, s)
		smu.Unlock()
	}

	render := time.NewTicker(o.out.interval())
	defer render.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	all := allDone(cs)
	pacerDone, tickC := pc.run.Done(), tick.C
	sampleNow()
loop:
	for {
		select {
		case <-all:
			break loop
		case <-pacerDone:
			// The chart covers pacer's run: one last sample, then no more.
			sampleNow()
			pacerDone, tickC = nil, nil
		case <-tickC:
			sampleNow()
		case <-render.C:
			o.progress.live(progressLines(cs, int64(o.requests)))
		}
	}
	if pacerDone != nil {
		sampleNow()
	}
	o.progress.live(progressLines(cs, int64(o.requests)))
	o.progress.endLive()
	for _, c := range cs {
		c.summary = c.run.Wait()
	}
	o.out.printf("\n")
	printTable(o.out, cs, o.requests)
	if o.jsonOut != nil {
		if err := writeTableJSON(o.jsonOut, cs, o.requests); err != nil {
			return err
		}
	}
	if o.svg != "" {
		if err := writeChart(o.svg, samples, o, chartSubtitle(pc, o.requests)); err != nil {
			return err
		}
		o.out.printf("\nChart written to %s\n", o.svg)
	}
	if err := runError(ctx, o, pc.summary); err != nil {
		return err
	}
	return unfinishedError(ctx, o, cs)
}

// unfinishedError reports a run that ended, by -timeout or an interrupt,
// before every client had answered every request; a client stopped by a
// cap or an answer that ends the run has been reported already.
func unfinishedError(ctx context.Context, o *options, cs []*contender) error {
	if ctx.Err() == nil {
		return nil
	}
	var short []string
	for _, c := range cs {
		if s := c.summary; s.Err == nil && s.Done < int64(o.requests) {
			short = append(short, fmt.Sprintf("%s %d of %d", c.name, s.Done, o.requests))
		}
	}
	if len(short) == 0 {
		return nil
	}
	why := fmt.Sprintf("stopped after -timeout %v", o.timeout)
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = "interrupted"
	}
	return fmt.Errorf("%s before every request was done (%s); raise -timeout or lower -requests", why, strings.Join(short, ", "))
}

// gateStats returns the learned limit, in flight and queued of the pacer
// stack's gate, summed over its keys (one key: one host).
func gateStats(st *pacer.Stack) (limit, inFlight, queued int) {
	if st == nil || st.Gate == nil {
		return 0, 0, 0
	}
	st.Gate.EachKey(func(_ string, l, f, q int) {
		limit += l
		inFlight += f
		queued += q
	})
	return limit, inFlight, queued
}

func allDone(cs []*contender) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		for _, c := range cs {
			<-c.run.Done()
		}
		close(ch)
	}()
	return ch
}

// progressLines renders one line per contender. Off a terminal, a contender
// that has finished gets its line once more and then no longer.
func progressLines(cs []*contender, total int64) []string {
	lines := make([]string, 0, len(cs))
	for _, c := range cs {
		p := c.run.Progress()
		cnt := c.counter.Stats()
		okPct := 0.0
		if p.Done > 0 {
			okPct = 100 * float64(p.OK) / float64(p.Done)
		}
		l := fmt.Sprintf("%-17s %s %5d/%d  ok %5.1f%%  attempts %5d  429s %5d  %5.1fs",
			c.name, bar(p.Done, total, 20), p.Done, total, okPct, cnt.Attempts, cnt.RateLimited, p.Elapsed.Seconds())
		if c.stack != nil {
			limit, inFlight, queued := gateStats(c.stack)
			l += fmt.Sprintf("  limit %2d  in flight %2d  queued %2d", limit, inFlight, queued)
		}
		finished := false
		select {
		case <-c.run.Done():
			finished = true
			if p.Done < total {
				l += "  stopped"
			} else {
				l += "  done"
			}
		default:
			if c.server != nil {
				l += fmt.Sprintf("  (server limit %2d)", c.server.Stats().Limit)
			}
		}
		if finished && c.reported && !c.interactive {
			continue
		}
		c.reported = finished
		lines = append(lines, l)
	}
	return lines
}

func writeChart(path string, samples []sample, o *options, subtitle string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the chart: %w", err)
	}
	title := "pacer against the fake API: limit 16 → 6 → 24 every 2s"
	if o.baseURL != "" {
		title = "pacer against " + hostOf(o.baseURL)
	}
	err = writeSVG(f, title, subtitle, samples)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the chart: %w", err)
	}
	return nil
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return raw
}

// runError turns how a run against a real endpoint stopped into an error
// that says what to do.
func runError(ctx context.Context, o *options, s loadgen.Summary) error {
	if s.Err == nil {
		return nil
	}
	var se *loadgen.StatusError
	switch {
	case errors.As(s.Err, &se):
		return statusError(o, se.StatusCode, se.Body)
	case errors.Is(s.Err, loadgen.ErrCapReached):
		o.out.printf("\nStopped by a cap: %v. Raise -max-requests or -max-tokens to send more.\n", s.Err)
		return nil
	case errors.Is(s.Err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("stopped after -timeout %v with %d of %d requests done; raise -timeout or lower -requests", o.timeout, s.Done, o.requests)
	}
	return s.Err
}

// statusError explains a status that ends a run.
func statusError(o *options, code int, body string) error {
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	detail := ""
	if body != "" {
		detail = "; the server said: " + strings.TrimSpace(body)
	}
	switch code {
	case http.StatusUnauthorized:
		return fmt.Errorf("401 Unauthorized: %s rejected the API key from %s; check the key and that it belongs to this endpoint%s", hostOf(o.baseURL), o.keyVar, detail)
	case http.StatusPaymentRequired:
		return fmt.Errorf("402 Payment Required: the account at %s has insufficient balance; top it up (402 is never retried)%s", hostOf(o.baseURL), detail)
	case http.StatusForbidden:
		return fmt.Errorf("403 Forbidden: the key from %s may not use this endpoint or model%s", o.keyVar, detail)
	case http.StatusNotFound:
		return fmt.Errorf("404 Not Found at %s/chat/completions: check -base-url (it usually ends in /v1) and -model%s", o.baseURL, detail)
	}
	return fmt.Errorf("%d %s from %s%s", code, http.StatusText(code), hostOf(o.baseURL), detail)
}

// preflight checks that a real endpoint can be reached and accepts the key,
// before any request that costs money: GET {base-url}/models.
func preflight(ctx context.Context, o *options) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.baseURL+"/models", nil)
	if err != nil {
		return fmt.Errorf("-base-url %q: %v", o.baseURL, err)
	}
	req.Header.Set("Authorization", "Bearer "+o.apiKey)
	t := newBaseTransport()
	defer t.CloseIdleConnections()
	resp, err := t.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %v; check -base-url and the network", o.baseURL, err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 512)
	n, _ := resp.Body.Read(buf)
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden:
		return statusError(o, resp.StatusCode, string(buf[:n]))
	}
	return nil
}
