package otelpacer

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	gotel "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/pacerhttp/pacer/otelpacer"

// Telemetry reports requests through OpenTelemetry. [Telemetry.Wrap] gives
// the logical-request layer, [Telemetry.WrapAttempt] the per-attempt layer;
// both come from the same value, so they share instruments and find each
// other through the request's context, not through imports.
//
// Create one with [New]. A nil or zero Telemetry observes nothing: its Wrap
// and WrapAttempt return the base transport itself. A Telemetry is safe for
// concurrent use. When the span would not be recorded and no instrument is
// enabled (no SDK installed: the global no-op providers), both layers pass
// the caller's request and the base's response through untouched (but for
// the RoundTripper contract, which both layers enforce on what the base
// returns on every path: no nil response without an error, a response
// returned beside an error is closed and dropped, a nil Body becomes
// [http.NoBody]). With the
// global providers before an SDK is installed, or the providers of
// go.opentelemetry.io/otel/trace/noop and metric/noop, that costs no
// allocation: no span is started and no instrument is asked. A provider
// installed globally after New (otel.SetTracerProvider,
// otel.SetMeterProvider) is used from the next request on, as the global
// providers' delegation promises.
//
// Otherwise the layers observe without changing what is sent or returned:
// the request passed on is a shallow copy whose context carries the span and
// the [transport.Record], and the response body is wrapped so that the span
// ends when the body reaches EOF, fails or is closed. They never read a
// request body they do not replay (only a copy from GetBody), and never read
// a response body beyond what the caller reads. No header is ever recorded.
type Telemetry struct {
	tracer       trace.Tracer
	startOpts    []trace.SpanStartOption
	providerName string
	now          func() time.Time
	reg          metric.Registration
	bufs         sync.Pool

	reqDuration   metric.Float64Histogram
	requests      metric.Int64Counter
	attempts      metric.Int64Counter
	retries       metric.Int64Counter
	refused       metric.Int64Counter
	gateWait      metric.Float64Histogram
	scheduleWait  metric.Float64Histogram
	tokenUsage    metric.Int64Histogram
	opDuration    metric.Float64Histogram
	instrumentsOn []interface{ Enabled(context.Context) bool }
	idle          idleness
}

// New returns a Telemetry configured by cfg. Instrument creation errors,
// which the SDK reports only for invalid names, go to the global OpenTelemetry
// error handler, as instrumentation libraries do; the instruments concerned
// then record nothing.
func New(cfg Config) *Telemetry {
	tp := cfg.TracerProvider
	if tp == nil {
		tp = gotel.GetTracerProvider()
	}
	mp := cfg.MeterProvider
	if mp == nil {
		mp = gotel.GetMeterProvider()
	}
	t := &Telemetry{
		tracer:       tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		startOpts:    []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)},
		providerName: cfg.ProviderName,
		now:          time.Now,
	}
	t.bufs.New = func() any { return new([readBufSize]byte) }
	t.idle.init(tp, mp)
	m := mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	// Waits run from a millisecond to DeepSeek's ten-minute maximum.
	waitBuckets := []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
	// Durations last until the body ends, and a streamed answer can last as
	// long as the ten minutes a server keeps a connection without
	// inference: the conventions' advisory buckets, which stop at 10 s
	// (HTTP) and 81.92 s (GenAI), go on to ten minutes, so that no stream
	// falls in the overflow bucket.
	reqBuckets := []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300, 600}
	opBuckets := []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92, 163.84, 327.68, 655.36}
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	t.reqDuration, err = m.Float64Histogram("http.client.request.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP client requests: one attempt, from sending until its body ended."),
		metric.WithExplicitBucketBoundaries(reqBuckets...))
	check(err)
	t.requests, err = m.Int64Counter("pacer.requests",
		metric.WithUnit("{request}"),
		metric.WithDescription("Logical requests, by final outcome."))
	check(err)
	t.attempts, err = m.Int64Counter("pacer.attempts",
		metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts (each send of a request), by outcome: rate_limited counts 429s, overloaded 503s."))
	check(err)
	t.retries, err = m.Int64Counter("pacer.retries",
		metric.WithUnit("{retry}"),
		metric.WithDescription("Attempts after the first of each logical request."))
	check(err)
	t.refused, err = m.Int64Counter("pacer.retries.refused",
		metric.WithUnit("{retry}"),
		metric.WithDescription("Logical requests the retry layer would have retried but its retry budget refused."))
	check(err)
	t.gateWait, err = m.Float64Histogram("pacer.gate.wait",
		metric.WithUnit("s"),
		metric.WithDescription("Time an attempt waited in the concurrency gate's queue."),
		metric.WithExplicitBucketBoundaries(waitBuckets...))
	check(err)
	t.scheduleWait, err = m.Float64Histogram("pacer.schedule.wait",
		metric.WithUnit("s"),
		metric.WithDescription("Time the server held an attempt with keep-alive bytes before scheduling it."),
		metric.WithExplicitBucketBoundaries(waitBuckets...))
	check(err)
	t.tokenUsage, err = m.Int64Histogram("gen_ai.client.token.usage",
		metric.WithUnit("{token}"),
		metric.WithDescription("Number of input and output tokens used."),
		metric.WithExplicitBucketBoundaries(1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864))
	check(err)
	t.opDuration, err = m.Float64Histogram("gen_ai.client.operation.duration",
		metric.WithUnit("s"),
		metric.WithDescription("GenAI operation duration, until the response body ended."),
		metric.WithExplicitBucketBoundaries(opBuckets...))
	check(err)
	t.fillNoop()
	t.instrumentsOn = []interface{ Enabled(context.Context) bool }{
		t.reqDuration, t.requests, t.attempts, t.retries, t.refused, t.gateWait, t.scheduleWait, t.tokenUsage, t.opDuration,
	}
	if len(cfg.Gates) > 0 || len(cfg.Breakers) > 0 || len(cfg.RateLimits) > 0 {
		check(t.observe(m, cfg.Gates, cfg.Breakers, cfg.RateLimits))
	}
	if err := errors.Join(errs...); err != nil {
		gotel.Handle(err)
	}
	return t
}

// breakerStates are the states pacer.breaker.status reports for every
// circuit, in the order of their values in the conventions' state metrics:
// one series per state, 1 for the circuit's state and 0 for the others.
var breakerStates = [...]string{"closed", "half-open", "open"}

// observe registers the gauges read from gates and breakers at each
// collection: the gate gauges when there are gates, pacer.breaker.status
// when there are breakers.
func (t *Telemetry) observe(m metric.Meter, gates []GateStats, breakers []BreakerStates, rls []RateLimitStats) error {
	gates = append([]GateStats(nil), gates...)
	breakers = append([]BreakerStates(nil), breakers...)
	rls = append([]RateLimitStats(nil), rls...)
	var insts []metric.Observable
	var limit, inFlight, queued, status, rlLimit, rlRemaining metric.Int64Observable
	if len(gates) > 0 {
		var err1, err2, err3 error
		limit, err1 = m.Int64ObservableGauge("pacer.gate.limit",
			metric.WithUnit("{request}"),
			metric.WithDescription("Current concurrency limit of a gate key."))
		inFlight, err2 = m.Int64ObservableGauge("pacer.gate.in_flight",
			metric.WithUnit("{request}"),
			metric.WithDescription("Requests holding a permit of a gate key, bodies not yet done."))
		queued, err3 = m.Int64ObservableGauge("pacer.gate.queued",
			metric.WithUnit("{request}"),
			metric.WithDescription("Requests queued for a permit of a gate key."))
		if err := errors.Join(err1, err2, err3); err != nil {
			return err
		}
		insts = append(insts, limit, inFlight, queued)
	}
	if len(breakers) > 0 {
		var err error
		// A state metric as the conventions shape them: an up-down counter
		// named ….status, one series per value of the ….state attribute.
		status, err = m.Int64ObservableUpDownCounter("pacer.breaker.status",
			metric.WithUnit("1"),
			metric.WithDescription("State of a circuit: 1 for the pacer.breaker.state it is in, 0 for the others."))
		if err != nil {
			return err
		}
		insts = append(insts, status)
	}
	if len(rls) > 0 {
		var err1, err2 error
		rlLimit, err1 = m.Int64ObservableGauge("pacer.ratelimit.limit",
			metric.WithUnit("{unit}"),
			metric.WithDescription("Size of a windowed limit the server announced, in requests or tokens (pacer.ratelimit.kind)."))
		rlRemaining, err2 = m.Int64ObservableGauge("pacer.ratelimit.remaining",
			metric.WithUnit("{unit}"),
			metric.WithDescription("What is left of a windowed limit the server announced, in requests or tokens (pacer.ratelimit.kind)."))
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		insts = append(insts, rlLimit, rlRemaining)
	}
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, g := range gates {
			if g == nil {
				continue
			}
			g.EachKey(func(key string, l, f, q int) {
				opt := metric.WithAttributeSet(attribute.NewSet(attrGateKey.String(key)))
				o.ObserveInt64(limit, int64(l), opt)
				o.ObserveInt64(inFlight, int64(f), opt)
				o.ObserveInt64(queued, int64(q), opt)
			})
		}
		for _, b := range breakers {
			if b == nil {
				continue
			}
			b.EachKey(func(key, state string) {
				known := false
				for _, s := range breakerStates {
					known = known || s == state
				}
				if !known {
					return
				}
				for _, s := range breakerStates {
					var v int64
					if s == state {
						v = 1
					}
					o.ObserveInt64(status, v, metric.WithAttributeSet(attribute.NewSet(
						attrBreakerKey.String(key), attrBreaker.String(s))))
				}
			})
		}
		for _, r := range rls {
			if r == nil {
				continue
			}
			r.EachKey(func(key, kind string, l, left int64) {
				opt := metric.WithAttributeSet(attribute.NewSet(attrGateKey.String(key), attrRateLimitKind.String(kind)))
				o.ObserveInt64(rlLimit, l, opt)
				o.ObserveInt64(rlRemaining, left, opt)
			})
		}
		return nil
	}, insts...)
	if err != nil {
		return err
	}
	t.reg = reg
	return nil
}

// Close stops the gate and breaker gauges from being observed, so that the
// gates and breakers given in [Config] can be released. The layers keep working. Close is safe to
// call more than once.
func (t *Telemetry) Close() error {
	if t == nil || t.reg == nil {
		return nil
	}
	return t.reg.Unregister()
}

// start starts a span named name(method), unless the tracer provider is
// known to record nothing (see [idleness]): then it returns ctx and a span
// that does nothing, without allocating.
func (t *Telemetry) start(ctx context.Context, name func(string) string, method string) (context.Context, trace.Span) {
	if t.idle.tracer() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return t.tracer.Start(ctx, name(method), t.startOpts...)
}

// metricsOn reports whether any synchronous instrument records anything.
func (t *Telemetry) metricsOn(ctx context.Context) bool {
	if t.idle.meter() {
		return false
	}
	for _, in := range t.instrumentsOn {
		if in.Enabled(ctx) {
			return true
		}
	}
	return false
}

// provider returns the gen_ai.provider.name for req.
func (t *Telemetry) provider(req *http.Request) string {
	if t.providerName != "" {
		return t.providerName
	}
	return ProviderName(req.URL.Host)
}

// fillNoop replaces an instrument a MeterProvider failed to create by a
// no-op one.
func (t *Telemetry) fillNoop() {
	for _, h := range []*metric.Float64Histogram{&t.reqDuration, &t.gateWait, &t.scheduleWait, &t.opDuration} {
		if *h == nil {
			*h = noop.Float64Histogram{}
		}
	}
	for _, c := range []*metric.Int64Counter{&t.requests, &t.attempts, &t.retries, &t.refused} {
		if *c == nil {
			*c = noop.Int64Counter{}
		}
	}
	if t.tokenUsage == nil {
		t.tokenUsage = noop.Int64Histogram{}
	}
}
