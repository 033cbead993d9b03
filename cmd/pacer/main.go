// Command pacer shows what pacer does, first against an embedded fake API,
// then, when you are ready, against your own endpoint.
//
// With no flags it needs no network and no key: it starts a fake
// OpenAI-compatible API whose concurrency limit moves (16, then 6, then 24
// requests, every 2 seconds, with a lower limit as punishment for bursts of
// 429s, as DeepSeek does), sends the same workload through a plain
// http.Client, through go-retryablehttp and through
// pacer.NewClient(pacer.Config{}) side by side, shows their progress live,
// and ends with a table: success rate, attempts, 429s, goodput against the
// ideal, and latency percentiles.
//
// Usage:
//
//	pacer [flags]          run the workload (embedded fake API, or -base-url)
//	pacer probe [flags]    find an endpoint's effective concurrency by pacing
//	                       up until 429s appear
//	pacer proxy [flags]    serve an OpenAI-compatible API on loopback that
//	                       forwards to one upstream through pacer, for
//	                       programs in any language
//
// Against a real endpoint, -base-url and -model name it and the API key comes
// from PACER_API_KEY, else DEEPSEEK_API_KEY, else OPENAI_API_KEY. Hard caps
// (-max-requests on requests sent, retries included, and -max-tokens on
// tokens used) keep a run from costing more than a few cents; only the pacer
// client is run there.
//
// -svg FILE writes a chart of the server's limit, pacer's learned limit and
// pacer's requests in flight over time. -json writes the demo's table or
// the probe's result as JSON on standard output, and the rest on standard
// error.
//
// # Proxy
//
// pacer proxy -upstream https://api.deepseek.com listens on 127.0.0.1:8787
// and forwards every request to that one upstream through the stack of
// pacer.New, so that a program in Python, Node or any other language gets
// pacer by pointing its SDK's base URL at http://127.0.0.1:8787/v1 (and
// turning the SDK's own retries off). It forwards to no other host, passes
// the caller's Authorization or injects a key from -key-env, bounds request
// bodies, streams answers as they arrive, answers /healthz and
// /pacer/stats (and /pacer/metrics with -metrics) itself, can share one
// account limit between many proxies through Redis (-redis), and on
// SIGINT or SIGTERM lets the streams in progress finish for up to
// -shutdown-timeout. Run pacer proxy -h for every flag.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// run is the whole command, with its environment injected for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 && args[0] == "proxy" {
		return runProxyCommand(ctx, args[1:], stderr, getenv)
	}
	opts, err := parseArgs(args, stderr, getenv)
	if err == errHelp {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "pacer: %v\nRun 'pacer -h' for usage.\n", err)
		return exitUsage
	}
	opts.out, opts.progress = newTerminal(stdout, getenv), newTerminal(stderr, getenv)
	if opts.json {
		opts.out, opts.jsonOut = opts.progress, stdout
	}
	if opts.probe {
		err = runProbe(ctx, opts)
	} else {
		err = runWorkload(ctx, opts)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pacer: %v\n", err)
		return exitError
	}
	return exitOK
}
