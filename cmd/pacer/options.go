package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

var errHelp = errors.New("help requested")

// options is the parsed command line.
type options struct {
	probe bool

	baseURL string // empty: the embedded fake API
	model   string
	apiKey  string
	keyVar  string // the environment variable the key came from

	requests       int
	callers        int
	stream         bool
	maxRequests    int
	maxTokens      int
	maxConcurrency int
	timeout        time.Duration
	svg            string
	seed           int64
	json           bool      // the result as JSON on stdout, the rest on stderr
	jsonOut        io.Writer // where the JSON goes; nil without -json

	// probeLimit is the fixed limit of the embedded fake API in probe mode.
	probeLimit int
	// probePause is the pause between probe levels.
	probePause time.Duration

	out      *terminal // results
	progress *terminal // live progress: standard error
}

// Defaults that differ between the embedded fake API and a real endpoint:
// the fake one is free, a real one costs money.
const (
	fakeRequests  = 1500
	fakeCallers   = 48
	realRequests  = 10
	realCallers   = 4
	realMaxReqs   = 50
	realMaxTokens = 5000
	// answerTokens is the max_tokens of each request to a real endpoint.
	answerTokens = 16
)

func parseArgs(args []string, stderr io.Writer, getenv func(string) string) (*options, error) {
	o := &options{}
	name := "pacer"
	if len(args) > 0 && args[0] == "probe" {
		o.probe = true
		name = "pacer probe"
		args = args[1:]
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Each mode defines only the flags it accepts, so that its -h lists
	// those alone.
	fs.StringVar(&o.baseURL, "base-url", "", "base URL of a real OpenAI-compatible API, e.g. https://api.deepseek.com/v1 (default: the embedded fake API)")
	fs.StringVar(&o.model, "model", "deepseek-chat", "model to ask for")
	if !o.probe {
		fs.IntVar(&o.requests, "requests", 0, fmt.Sprintf("requests per client (default %d against the fake API, %d against -base-url)", fakeRequests, realRequests))
		fs.IntVar(&o.callers, "callers", 0, fmt.Sprintf("concurrent callers per client (default %d against the fake API, %d against -base-url)", fakeCallers, realCallers))
		fs.BoolVar(&o.stream, "stream", false, "ask for streamed answers")
	}
	fs.IntVar(&o.maxRequests, "max-requests", realMaxReqs, "hard cap on requests sent to -base-url, retries and probes included")
	fs.IntVar(&o.maxTokens, "max-tokens", realMaxTokens, "hard cap on tokens used at -base-url; each request asks for at most 16")
	if o.probe {
		fs.IntVar(&o.maxConcurrency, "max-concurrency", 64, "highest concurrency tried")
		fs.IntVar(&o.probeLimit, "fake-limit", 12, "the fixed concurrency limit of the embedded fake API")
	} else {
		o.maxConcurrency, o.probeLimit = 64, 12
	}
	fs.DurationVar(&o.timeout, "timeout", 50*time.Second, "stop the run after this long; a run stopped before every request is done exits with status 1")
	if !o.probe {
		fs.StringVar(&o.svg, "svg", "", "write a chart of the server's limit, pacer's learned limit and in flight to this SVG file")
	}
	fs.Int64Var(&o.seed, "seed", 1, "seed of the embedded fake API")
	what := "the summary table"
	if o.probe {
		what = "the probe's result"
	}
	fs.BoolVar(&o.json, "json", false, "write "+what+" as JSON on standard output, and progress and explanations on standard error")
	fs.Usage = func() {
		if o.probe {
			fmt.Fprintf(stderr, "Usage:\n  pacer probe [flags]  find an endpoint's effective concurrency by pacing up until 429s appear\n\n")
			fmt.Fprintf(stderr, "Without -base-url it probes an embedded fake API whose limit is -fake-limit.\n")
		} else {
			fmt.Fprintf(stderr, "Usage:\n  pacer [flags]        run a workload through a bare client and through pacer side by side\n"+
				"  pacer probe [flags]  find an endpoint's effective concurrency by pacing up until 429s appear\n"+
				"  pacer proxy [flags]  serve one upstream API on loopback through pacer, for programs in any language\n\n")
			fmt.Fprintf(stderr, "Without -base-url both run against an embedded fake API; no network or key is needed.\n")
		}
		fmt.Fprintf(stderr, "With -base-url the API key is read from PACER_API_KEY, else DEEPSEEK_API_KEY, else OPENAI_API_KEY.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		msg := strings.TrimPrefix(err.Error(), "flag: ")
		undefined := strings.TrimPrefix(msg, "flag provided but not defined: -")
		switch {
		case undefined == msg:
		case o.probe && (undefined == "requests" || undefined == "callers" || undefined == "stream" || undefined == "svg"):
			return nil, errors.New("probe takes none of -requests, -callers, -stream, -svg: it chooses its own concurrency")
		case !o.probe && (undefined == "max-concurrency" || undefined == "fake-limit"):
			return nil, errors.New("-max-concurrency and -fake-limit apply to probe only (pacer probe -max-concurrency N)")
		}
		return nil, errors.New(msg)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (the subcommands are probe and proxy, and they come first)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	real := o.baseURL != ""
	if real {
		u, err := url.Parse(o.baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("-base-url %q is not an http or https URL; want something like https://api.deepseek.com/v1", o.baseURL)
		}
		o.baseURL = strings.TrimRight(o.baseURL, "/")
		for _, k := range []string{"PACER_API_KEY", "DEEPSEEK_API_KEY", "OPENAI_API_KEY"} {
			if v := strings.TrimSpace(getenv(k)); v != "" {
				o.apiKey, o.keyVar = v, k
				break
			}
		}
		if o.apiKey == "" {
			return nil, errors.New("-base-url needs an API key: set PACER_API_KEY (or DEEPSEEK_API_KEY or OPENAI_API_KEY)")
		}
		if set["fake-limit"] || set["seed"] {
			return nil, errors.New("-fake-limit and -seed apply to the embedded fake API only, not with -base-url")
		}
	} else if (set["max-requests"] || set["max-tokens"]) && !o.probe {
		return nil, errors.New("-max-requests and -max-tokens cap spending at a real endpoint; they need -base-url")
	}
	if o.model == "" {
		return nil, errors.New("-model must not be empty")
	}
	if o.requests == 0 {
		o.requests = fakeRequests
		if real {
			o.requests = realRequests
		}
	}
	if o.callers == 0 {
		o.callers = fakeCallers
		if real {
			o.callers = realCallers
		}
	}
	switch {
	case o.requests < 0:
		return nil, fmt.Errorf("-requests must be positive, got %d", o.requests)
	case o.callers < 0:
		return nil, fmt.Errorf("-callers must be positive, got %d", o.callers)
	case o.maxRequests < 1:
		return nil, fmt.Errorf("-max-requests must be at least 1, got %d", o.maxRequests)
	case o.maxTokens < 1:
		return nil, fmt.Errorf("-max-tokens must be at least 1, got %d", o.maxTokens)
	case o.maxConcurrency < 1:
		return nil, fmt.Errorf("-max-concurrency must be at least 1, got %d", o.maxConcurrency)
	case o.timeout <= 0:
		return nil, fmt.Errorf("-timeout must be positive, got %v", o.timeout)
	case o.probeLimit < 1:
		return nil, fmt.Errorf("-fake-limit must be at least 1, got %d", o.probeLimit)
	}
	if o.probe {
		o.probePause = 100 * time.Millisecond
		if real {
			o.probePause = 2 * time.Second
		}
	}
	return o, nil
}
