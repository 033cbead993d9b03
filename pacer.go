package pacer

import (
	"net/http"
	"time"

	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/otelpacer"
	"github.com/pacerhttp/pacer/quota"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

// Config configures the recommended stack. Its zero value, Config{}, is the
// recommended setup for DeepSeek, OpenAI, Anthropic and other
// OpenAI-compatible APIs: every layer with its own package's defaults, over
// a base transport that keeps enough idle connections per host for the
// concurrency the gate allows.
//
// Each layer's field is passed as is to that layer's New; see the layer's
// package for what its zero value means. Without leaves layers out, and
// their fields are then ignored.
type Config struct {
	// Base sends each attempt. Nil means a clone of http.DefaultTransport
	// whose MaxIdleConnsPerHost and MaxIdleConns are
	// [DefaultMaxIdleConnsPerHost] and [DefaultMaxIdleConns] instead of 2
	// and 100, so that requests admitted by the gate reuse connections
	// instead of opening new ones. Each stack built with a nil Base has its
	// own connection pool.
	Base http.RoundTripper

	// Retry configures the retry layer: capped exponential backoff with full
	// jitter, Retry-After in every form, a retry budget. One field differs
	// from retry's own default when the gate is in the stack: a zero
	// RateLimitedBaseDelay means [DefaultRateLimitedBaseDelay], because the
	// gate already paces a request retried after a 429 (it lowers its limit,
	// and the retry waits in its queue), so a long sleep on top only adds
	// latency. A negative RateLimitedBaseDelay keeps retry's default
	// (BaseDelay after a 429 too).
	Retry retry.Config

	// Gate configures the concurrency gate: an adaptive limit per host and
	// model, learned from 429s, with a priority queue.
	Gate concurrency.Config

	// Breaker configures the circuit breaker, which fails fast while 503s
	// and network failures spike.
	Breaker breaker.Config

	// Quota configures the windowed-quota layer, which paces requests and
	// tokens per minute from the rate-limit headers OpenAI and Anthropic
	// send, before the 429. It does nothing, and costs next to nothing,
	// for a server that sends no such headers. When Quota.Key is nil and
	// Gate.Key is set, the layer keys by Gate.Key, so that both layers
	// speak of the same account.
	Quota quota.Config

	// KeepAlive configures the keep-alive filter, which hides the blank
	// lines and ": keep-alive" comments sent while a request waits to be
	// scheduled.
	KeepAlive keepalive.Config

	// Telemetry configures the OpenTelemetry spans and metrics. Its zero
	// value uses the global providers: nothing is recorded until an SDK is
	// installed there. The stack's gate is added to Telemetry.Gates, so its
	// limit, in flight and queue depth are reported as gauges, and its
	// breaker to Telemetry.Breakers, so the state of each circuit a request
	// has used is reported too, and its quota layer to Telemetry.RateLimits,
	// so the windows servers announce are.
	Telemetry otelpacer.Config

	// Without is the set of layers to leave out; the zero value leaves out
	// none. For example, Without: LayerBreaker | LayerTelemetry.
	Without Layer
}

// DefaultMaxIdleConnsPerHost and DefaultMaxIdleConns are the idle-pool
// bounds of the base transport used when [Config].Base is nil.
//
// Over HTTP/1.1 every request in flight holds its own connection, so a gate
// admitting 2500 requests (DeepSeek's largest documented limit) needs that
// many connections, and an idle pool smaller than the limit closes the
// surplus after every burst only to dial it again, TLS handshake included.
// The bounds are ceilings, not reservations: a program that never has more
// than ten requests in flight never opens more than ten connections, and
// idle ones are closed after IdleConnTimeout (90 s, as in
// http.DefaultTransport). Over HTTP/2 one connection carries many
// requests and the bounds barely matter.
const (
	DefaultMaxIdleConnsPerHost = 4096
	DefaultMaxIdleConns        = 4096
)

// DefaultRateLimitedBaseDelay is the retry layer's backoff base after a 429
// without a server hint, in a stack with the gate (see [Config].Retry).
const DefaultRateLimitedBaseDelay = 25 * time.Millisecond

// Stack is the recommended stack with its layers within reach: the gate and
// the quota layer for their Stats, the breaker for its State, the telemetry
// to Close. A field is nil when its layer was left out.
//
// A Stack is an [http.RoundTripper], safe for concurrent use. Build one per
// account and share it (or the *http.Client from [Stack.Client]) between
// every part of a program that calls that account: the gate's limit and the
// retry budget are only right when every request goes through them.
type Stack struct {
	Retry     *retry.Retrier
	Breaker   *breaker.Breaker
	Quota     *quota.Quota
	Gate      *concurrency.Gate
	KeepAlive *keepalive.Filter
	Telemetry *otelpacer.Telemetry

	rt http.RoundTripper
}

// New builds the stack configured by cfg, in this order, outermost first:
//
//	otel (logical span) → retry → breaker → quota → concurrency gate →
//	otel (attempt span) → keepalive → base
//
// Retry sits outside the gate, so a request sleeping in backoff holds no
// permit; the breaker sees every attempt; the quota layer holds a request
// that its window cannot take before it takes a permit; the gate counts
// every attempt until its body is done; keepalive sits on each attempt's
// response, so a connection closed while the request waited to be scheduled
// can still be retried.
func New(cfg Config) *Stack {
	s := new(Stack)
	skip := cfg.Without
	base := cfg.Base
	if base == nil {
		base = newBase()
	}
	if !skip.Has(LayerGate) {
		s.Gate = concurrency.New(cfg.Gate)
	}
	if !skip.Has(LayerRetry) {
		rc := cfg.Retry
		if s.Gate != nil && rc.RateLimitedBaseDelay == 0 {
			rc.RateLimitedBaseDelay = DefaultRateLimitedBaseDelay
		}
		s.Retry = retry.New(rc)
	}
	if !skip.Has(LayerBreaker) {
		s.Breaker = breaker.New(cfg.Breaker)
	}
	if !skip.Has(LayerQuota) {
		qc := cfg.Quota
		if qc.Key == nil && cfg.Gate.Key != nil {
			gateKey := cfg.Gate.Key
			qc.Key = func(req *http.Request, _ string) string { return gateKey(req) }
		}
		s.Quota = quota.New(qc)
	}
	if !skip.Has(LayerKeepAlive) {
		s.KeepAlive = keepalive.New(cfg.KeepAlive)
	}
	if !skip.Has(LayerTelemetry) {
		tc := cfg.Telemetry
		if s.Gate != nil {
			tc.Gates = append(append([]otelpacer.GateStats(nil), tc.Gates...), s.Gate)
		}
		if s.Breaker != nil {
			tc.Breakers = append(append([]otelpacer.BreakerStates(nil), tc.Breakers...), s.Breaker)
		}
		if s.Quota != nil {
			tc.RateLimits = append(append([]otelpacer.RateLimitStats(nil), tc.RateLimits...), s.Quota)
		}
		s.Telemetry = otelpacer.New(tc)
	}
	var mw [7]transport.Middleware
	if s.Telemetry != nil {
		mw[0], mw[5] = s.Telemetry.Wrap, s.Telemetry.WrapAttempt
	}
	if s.Retry != nil {
		mw[1] = s.Retry.Wrap
	}
	if s.Breaker != nil {
		mw[2] = s.Breaker.Wrap
	}
	if s.Quota != nil {
		mw[3] = s.Quota.Wrap
	}
	if s.Gate != nil {
		mw[4] = s.Gate.Wrap
	}
	if s.KeepAlive != nil {
		mw[6] = s.KeepAlive.Wrap
	}
	s.rt = transport.Chain(base, mw[:]...)
	return s
}

// RoundTrip sends req through the stack.
func (s *Stack) RoundTrip(req *http.Request) (*http.Response, error) {
	return s.rt.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of the base transport.
func (s *Stack) CloseIdleConnections() { roundtrip.CloseIdleConnections(s.rt) }

// Client returns an *http.Client that sends its requests through s. It has
// no Timeout: a streamed answer can rightly last minutes, and a request may
// wait in the gate's queue; bound each request with its context instead.
func (s *Stack) Client() *http.Client { return &http.Client{Transport: s} }

// Close releases what the stack registered beyond its own lifetime: the
// telemetry's gate and breaker gauges. The stack keeps working. Call it
// when a program builds stacks over and over with a real MeterProvider
// installed; a stack built once for the life of the program needs no Close.
func (s *Stack) Close() error {
	if s.Telemetry != nil {
		return s.Telemetry.Close()
	}
	return nil
}

// NewClient returns an *http.Client whose transport is [New](cfg).
//
//	client := pacer.NewClient(pacer.Config{})
//
// is the one line most programs need: hand the client to the SDK
// (go-openai's ClientConfig.HTTPClient, openai-go's option.WithHTTPClient)
// and turn the SDK's own retries off. The client has no Timeout, because a
// streamed answer can rightly last minutes; bound each request with its
// context instead.
func NewClient(cfg Config) *http.Client { return New(cfg).Client() }

// newBase returns the default base transport: a clone of
// http.DefaultTransport with the idle-pool bounds
// [DefaultMaxIdleConnsPerHost] and [DefaultMaxIdleConns].
func newBase() http.RoundTripper {
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t := dt.Clone()
	t.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	t.MaxIdleConns = DefaultMaxIdleConns
	return t
}
