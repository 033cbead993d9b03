package otelpacer

import (
	"context"
	"net/http"
	"time"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/transport"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// WrapAttempt returns the per-attempt layer over next (nil means
// [http.DefaultTransport]): one HTTP client span per attempt, a child of the
// logical span. Put it under retry, the breaker and the gate, just above
// keepalive, so that it sees every send and the gate's wait is already known.
//
// The span is named after the method and carries http.request.method,
// server.address, server.port, url.full (without user information, secret
// query values replaced by "REDACTED"), http.response.status_code,
// error.type, and http.request.resend_count on every resend (from the
// attempt number the retry layer writes to the [transport.Record]), plus the
// attempt's gate wait and key, breaker state and scheduling wait. It ends when
// the attempt's body is done.
//
// It records http.client.request.duration, pacer.attempts, pacer.gate.wait
// and pacer.schedule.wait per attempt. Without an attempt layer, [Telemetry.Wrap]
// records them once per logical request instead.
//
// The resend count, the gate's wait and key and the breaker state come from
// the request's record, which [Telemetry.Wrap] attaches above the retry
// layer (or the caller does, with [transport.ContextWithRecord]); an attempt
// layer with neither above it makes a record of its own, which the layers
// above it cannot write to, and so reports none of them.
func (t *Telemetry) WrapAttempt(next http.RoundTripper) http.RoundTripper {
	if t == nil || t.tracer == nil {
		return roundtrip.Base(next)
	}
	return &attemptTransport{t: t, next: roundtrip.Base(next)}
}

type attemptTransport struct {
	t    *Telemetry
	next http.RoundTripper
}

// CloseIdleConnections forwards to the wrapped transport.
func (a *attemptTransport) CloseIdleConnections() { roundtrip.CloseIdleConnections(a.next) }

// attempt is the state of one attempt until its body is done.
type attempt struct {
	t             *Telemetry
	ctx           context.Context
	span          trace.Span
	recording     bool
	metrics       bool
	rec           *transport.Record
	start         time.Time
	scheduleStart time.Duration
	stalledBefore bool // Facts.Stalled when the attempt began
	gateWait      time.Duration
	gate          bool
	key           string // the gate key, empty without a gate
	method        string
	host          string
	port          int
	status        int
}

func (a *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t := a.t
	if t.idle.tracer() && t.idle.meter() {
		// Nothing can record: the fast way through.
		return roundtrip.Do(a.next, req)
	}
	ctx, span := t.start(req.Context(), attemptSpanName, req.Method)
	recording := span.IsRecording()
	metrics := t.metricsOn(ctx)
	if !recording && !metrics {
		return roundtrip.Do(a.next, req)
	}
	at := &attempt{t: t, span: span, recording: recording, metrics: metrics, start: t.now()}
	at.method, at.host, at.port = serverAttrs(req)
	if at.rec = transport.RecordFrom(ctx); at.rec == nil {
		at.rec = new(transport.Record)
		ctx = transport.ContextWithRecord(ctx, at.rec)
	}
	at.ctx = ctx
	facts := at.rec.Facts()
	at.scheduleStart = facts.ScheduleWait
	at.stalledBefore = facts.Stalled
	at.gate = facts.GateKey != "" || facts.GateWait > 0
	at.gateWait = facts.GateWait
	at.key = facts.GateKey
	if c, ok := ctx.Value(callKey{}).(*call); ok && c.t == t {
		// The gate's total includes earlier attempts: this attempt's share is
		// what was added since the last attempt began.
		at.gateWait -= time.Duration(c.gateSeen.Swap(int64(facts.GateWait)))
		c.attemptsSeen.Add(1)
	}
	if recording {
		attrs := requestAttrs(req)
		if facts.Attempts > 1 {
			attrs = append(attrs, attrResendCount.Int(facts.Attempts-1))
		}
		if at.gate {
			attrs = append(attrs, attrGateWait.Float64(at.gateWait.Seconds()))
		}
		if facts.GateKey != "" {
			attrs = append(attrs, attrGateKey.String(facts.GateKey))
		}
		if facts.BreakerState != "" {
			attrs = append(attrs, attrBreaker.String(facts.BreakerState))
		}
		if facts.Fallback {
			attrs = append(attrs, attrFallback.Bool(true))
		}
		span.SetAttributes(attrs...)
	}

	resp, err := roundtrip.Do(a.next, req.WithContext(ctx))
	if err != nil {
		at.end(err)
		return nil, err
	}
	at.status = resp.StatusCode
	resp.Body = httpbody.OnDone(resp.Body, at.bodyDone)
	return resp, nil
}

func (at *attempt) bodyDone(err error) {
	if httpbody.Failed(err) {
		at.end(err)
		return
	}
	at.end(nil)
}

func (at *attempt) end(err error) {
	t := at.t
	dur := t.now().Sub(at.start).Seconds()
	facts := at.rec.Facts()
	schedule := facts.ScheduleWait - at.scheduleStart
	outcome := transport.ClassifyStatus(at.status)
	if err != nil {
		outcome = transport.Classify(nil, err)
	}
	errType := errorType(at.status, outcome.String(), err != nil)
	if err != nil && facts.Stalled && !at.stalledBefore {
		errType = errTypeStalled
	}
	if at.recording {
		attrs := make([]attribute.KeyValue, 0, 4)
		if at.status != 0 {
			attrs = append(attrs, attrStatus.Int(at.status))
		}
		if schedule > 0 {
			attrs = append(attrs, attrScheduleWait.Float64(schedule.Seconds()))
		}
		if errType != "" {
			attrs = append(attrs, attrErrorType.String(errType))
			at.span.SetStatus(codes.Error, errType)
		}
		attrs = append(attrs, attrOutcome.String(outcome.String()))
		at.span.SetAttributes(attrs...)
		at.span.End()
	}
	if at.metrics {
		t.recordAttempt(at.ctx, attemptMeasure{
			method: at.method, host: at.host, port: at.port, status: at.status,
			errType: errType, outcome: outcome.String(),
			prio:     attrPriority.String(transport.PriorityFrom(at.ctx).String()),
			duration: dur, key: at.key, gate: at.gate, gateWait: at.gateWait,
			schedule: at.status != 0, scheduleWait: schedule,
		})
	}
}

// attemptMeasure is what one attempt contributes to the metrics.
type attemptMeasure struct {
	method, host     string
	port, status     int
	errType, outcome string
	prio             attribute.KeyValue
	duration         float64
	key              string
	gate             bool
	gateWait         time.Duration
	schedule         bool
	scheduleWait     time.Duration
}

// recordAttempt records the per-attempt instruments.
func (t *Telemetry) recordAttempt(ctx context.Context, m attemptMeasure) {
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs, attrMethod.String(m.method), attrServerAddress.String(m.host), attrServerPort.Int(m.port))
	if m.status != 0 {
		attrs = append(attrs, attrStatus.Int(m.status))
	}
	if m.errType != "" {
		attrs = append(attrs, attrErrorType.String(m.errType))
	}
	t.reqDuration.Record(ctx, m.duration, metric.WithAttributeSet(attribute.NewSet(attrs...)))
	t.attempts.Add(ctx, 1, metric.WithAttributeSet(keyedSet(m.key,
		attrOutcome.String(m.outcome), m.prio, attrServerAddress.String(m.host))))
	if m.gate || m.schedule {
		where := metric.WithAttributeSet(keyedSet(m.key, attrServerAddress.String(m.host)))
		if m.gate {
			t.gateWait.Record(ctx, m.gateWait.Seconds(), where)
		}
		if m.schedule {
			t.scheduleWait.Record(ctx, m.scheduleWait.Seconds(), where)
		}
	}
}

// keyedSet returns the set of attrs (at most three) and, when key is not
// empty, pacer.gate.key: the label every pacer metric about a gate key
// shares with the gate's gauges.
func keyedSet(key string, attrs ...attribute.KeyValue) attribute.Set {
	var kv [4]attribute.KeyValue
	n := copy(kv[:3], attrs)
	if key != "" {
		kv[n] = attrGateKey.String(key)
		n++
	}
	return attribute.NewSet(kv[:n]...)
}
