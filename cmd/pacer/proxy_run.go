package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/redis/go-redis/v9"
)

// runProxyCommand is pacer proxy: it parses its flags, builds the stack,
// serves until ctx is done, then shuts down gracefully.
func runProxyCommand(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) int {
	o, err := parseProxyArgs(args, stderr, getenv)
	if err == errHelp {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "pacer proxy: %v\nRun 'pacer proxy -h' for usage.\n", err)
		return exitUsage
	}
	log := newLogger(stderr, o.verbose)
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		fmt.Fprintf(stderr, "pacer proxy: %v\n", err)
		return exitError
	}
	if err := runProxy(ctx, o, ln, log); err != nil {
		fmt.Fprintf(stderr, "pacer proxy: %v\n", err)
		return exitError
	}
	return exitOK
}

// newLogger returns the proxy's logger, writing text lines to w; verbose
// adds a line per request.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// proxyParts is what a proxy is built from, with what must be released when
// it stops.
type proxyParts struct {
	handler *proxy
	stack   *pacer.Stack
	closers []func() error
}

func (pp *proxyParts) close() error {
	var errs []error
	for i := len(pp.closers) - 1; i >= 0; i-- {
		errs = append(errs, pp.closers[i]())
	}
	return errors.Join(errs...)
}

// buildProxy builds the stack and the handler that o describes.
func buildProxy(o *proxyOptions, log *slog.Logger) (*proxyParts, error) {
	pp := &proxyParts{}
	cfg := pacer.Config{}
	if o.passKeepAlive {
		cfg.Without |= pacer.LayerKeepAlive
	}
	if o.redisURL != "" {
		opts, err := redisOptions(o.redisURL)
		if err != nil {
			return nil, err
		}
		rdb := redis.NewClient(opts)
		lim := redislimit.New(rdb, redislimit.Config{
			OnStateChange: func(s redislimit.State, err error) {
				if err != nil {
					log.Warn("shared limit: Redis unreachable, using the local fallback limit", "error", err.Error())
					return
				}
				log.Info("shared limit: Redis reachable again")
			},
		})
		cfg.Gate = concurrency.Config{Limiter: lim}
		pp.closers = append(pp.closers, rdb.Close, lim.Close)
	}
	var metrics http.Handler
	if o.metrics {
		m := newMetrics()
		cfg.Telemetry.MeterProvider = m.provider
		metrics = m
		pp.closers = append(pp.closers, m.shutdown)
	}
	pp.stack = pacer.New(cfg)
	pp.closers = append(pp.closers, func() error { pp.stack.CloseIdleConnections(); return pp.stack.Close() })
	pp.handler = newProxy(proxyConfig{
		Upstream: o.upstream, Stack: pp.stack, AllowHosts: o.allowHosts,
		Key: o.key, KeyHeader: o.keyHeader, MaxBody: o.maxBody,
		Log: log, Metrics: metrics, Shared: o.redisURL != "",
	})
	return pp, nil
}

// redisOptions parses a -redis URL into client options whose calls are
// bounded by the limiter's timeout.
func redisOptions(raw string) (*redis.Options, error) {
	opts, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("-redis: want a URL such as redis://localhost:6379/0 (%v)", err)
	}
	opts.ContextTimeoutEnabled = true
	return opts, nil
}

// runProxy serves the proxy on ln until ctx is done, then shuts down.
func runProxy(ctx context.Context, o *proxyOptions, ln net.Listener, log *slog.Logger) error {
	pp, err := buildProxy(o, log)
	if err != nil {
		ln.Close()
		return err
	}
	log.Info("pacer proxy listening", "addr", ln.Addr().String(), "upstream", o.upstream.Redacted(),
		"key", keySource(o), "keepalive_filter", !o.passKeepAlive, "shared_limit", o.redisURL != "")
	err = serveProxy(ctx, ln, pp.handler, o.shutdownTimeout, log)
	return errors.Join(err, pp.close())
}

// keySource says where the upstream key comes from, never what it is.
func keySource(o *proxyOptions) string {
	if o.key != "" {
		return o.keyHeader + " from $" + o.keyEnv
	}
	return "the caller's"
}

// serveProxy serves p on ln until ctx is done. Shutdown then stops
// accepting connections at once, lets the requests in progress (streams
// included) finish for up to timeout, and cuts those still running.
func serveProxy(ctx context.Context, ln net.Listener, p *proxy, timeout time.Duration, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: no new connections; waiting for requests in progress", "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown timeout reached: cutting the requests still in progress")
		err = srv.Close()
	}
	<-served
	// Handlers whose connections were cut unwind and close their upstream
	// bodies, releasing their permits, before the stack is closed.
	p.active.Wait()
	log.Info("stopped")
	return err
}
