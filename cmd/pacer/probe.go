package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pacerhttp/pacer/internal/loadgen"
	"github.com/pacerhttp/pacer/llmtest"
)

// probeResult is what a probe found.
type probeResult struct {
	// Limit is the highest concurrency that met no 429.
	Limit int `json:"limit"`
	// FirstRejected is the lowest concurrency that met a 429; zero when
	// none did up to the highest level tried.
	FirstRejected int `json:"first_rejected"`
	// Capped reports that the probe stopped at -max-requests or
	// -max-tokens before it could bracket the limit.
	Capped bool `json:"capped"`
	// Sent is the number of requests sent.
	Sent int64 `json:"sent"`
}

// probeServiceTime is how long the embedded fake API takes to answer in probe
// mode: long enough that requests launched together are in flight together.
const probeServiceTime = 100 * time.Millisecond

// runProbe finds the effective concurrency of the endpoint and reports it.
func runProbe(ctx context.Context, o *options) error {
	res, err := probe(ctx, o)
	if err != nil {
		return err
	}
	switch {
	case res.FirstRejected == 0 && res.Capped:
		o.out.printf("\nEffective concurrency: at least %d (stopped by -max-requests or -max-tokens after %d requests; raise them to probe further).\n", res.Limit, res.Sent)
	case res.FirstRejected == 0:
		o.out.printf("\nEffective concurrency: at least %d: no 429 up to -max-concurrency %d (%d requests sent).\n", res.Limit, o.maxConcurrency, res.Sent)
	case res.Capped:
		o.out.printf("\nEffective concurrency: between %d and %d (%d met 429s; stopped by -max-requests or -max-tokens after %d requests).\n", res.Limit, res.FirstRejected-1, res.FirstRejected, res.Sent)
	case res.Limit == 0:
		o.out.printf("\nEffective concurrency: below 1: even a single request got a 429 (%d requests sent). Wait a minute and probe again.\n", res.Sent)
	default:
		o.out.printf("\nEffective concurrency: %d (%d concurrent requests met 429s; %d requests sent).\n", res.Limit, res.FirstRejected, res.Sent)
	}
	if o.jsonOut != nil {
		enc := json.NewEncoder(o.jsonOut)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	if res.Limit > 0 {
		o.out.printf("The limit moves with load, so pacer learns it as it goes; to start there instead of low:\n"+
			"  pacer.NewClient(pacer.Config{Gate: concurrency.Config{Limits: concurrency.Limits{InitialLimit: %d}}})\n", res.Limit)
	}
	return nil
}

// probe sends c requests at once for c = 1, 2, 4, ... until some of them get
// 429s, then narrows the range by bisection. A client without retries is
// used: the probe must see every 429. Between levels it pauses, so that a
// server that punishes bursts has time to forgive.
func probe(ctx context.Context, o *options) (probeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	counter := &loadgen.Counter{Base: newBaseTransport()}
	defer counter.CloseIdleConnections()
	client := &http.Client{Transport: counter}
	url := o.baseURL + "/chat/completions"
	real := o.baseURL != ""
	if real {
		if err := preflight(ctx, o); err != nil {
			return probeResult{}, err
		}
		counter.MaxAttempts = int64(o.maxRequests)
		o.out.printf("Probing %s (model %s, key from %s): c requests at once, no retries, until 429s appear.\n"+
			"Caps: %d requests, %d tokens.\n\n", o.baseURL, o.model, o.keyVar, o.maxRequests, o.maxTokens)
	} else {
		srv := llmtest.NewServer(llmtest.Config{
			Phases:      []llmtest.Phase{{Limit: o.probeLimit, Duration: time.Hour}},
			ServiceTime: probeServiceTime,
			Seed:        o.seed,
		})
		defer srv.Close()
		url = srv.URL() + "/chat/completions"
		o.out.printf("Probing the embedded fake API (fixed limit %d, unknown to the probe): c requests at once, no retries.\n\n", o.probeLimit)
	}

	var res probeResult
	var tokens int64
	// level reports whether c requests at once all got through.
	level := func(c int) (ok, stop bool, err error) {
		if real && (counter.Stats().Attempts+int64(c) > int64(o.maxRequests) || tokens >= int64(o.maxTokens)) {
			return false, true, nil
		}
		w := loadgen.Workload{Client: client, URL: url, APIKey: o.apiKey, Model: o.model, Requests: c, Callers: c}
		if real {
			w.MaxTokens = 1
		}
		s := loadgen.Start(ctx, w).Wait()
		tokens += s.Tokens
		res.Sent = counter.Stats().Attempts
		if s.Err != nil {
			var se *loadgen.StatusError
			if errors.As(s.Err, &se) {
				return false, true, statusError(o, se.StatusCode, se.Body)
			}
			return false, true, s.Err
		}
		if ctx.Err() != nil {
			return false, true, fmt.Errorf("probe stopped after -timeout %v; raise it", o.timeout)
		}
		rejected := s.Failures["429"]
		other := s.Failed - rejected
		switch {
		case rejected > 0:
			o.out.printf("  %3d at once: %d got 429\n", c, rejected)
		case other > 0:
			o.out.printf("  %3d at once: ok, but %d failed otherwise (%s)\n", c, other, failures(s.Failures))
		default:
			o.out.printf("  %3d at once: ok\n", c)
		}
		if other > 0 && other == s.Failed && s.OK == 0 {
			return false, true, fmt.Errorf("every request at concurrency %d failed without a 429 (%s); check -base-url and -model", c, failures(s.Failures))
		}
		select {
		case <-time.After(o.probePause):
		case <-ctx.Done():
		}
		return rejected == 0, false, nil
	}

	lo, hi := 0, 0 // lo: highest level that passed; hi: lowest that met 429s
	for c := 1; ; c *= 2 {
		c = min(c, o.maxConcurrency)
		ok, stop, err := level(c)
		if err != nil {
			return res, err
		}
		if stop {
			res.Capped = true
			break
		}
		if !ok {
			hi = c
			break
		}
		lo = c
		if c == o.maxConcurrency {
			break
		}
	}
	for hi > 0 && hi-lo > 1 && !res.Capped {
		mid := (lo + hi) / 2
		ok, stop, err := level(mid)
		if err != nil {
			return res, err
		}
		if stop {
			res.Capped = true
			break
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	res.Limit, res.FirstRejected = lo, hi
	return res, nil
}
