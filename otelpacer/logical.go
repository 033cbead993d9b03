package otelpacer

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/internal/usage"
	"github.com/pacerhttp/pacer/transport"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Wrap returns the logical-request layer over next (nil means
// [http.DefaultTransport]): one span per request the caller makes, however
// many attempts the layers under it send. Put it outermost, above retry.
//
// For a chat completion (POST …/chat/completions) the span is named
// "chat {model}" and carries the GenAI attributes: operation, provider,
// request and response model, stream, and token usage read from the response
// as the caller reads it. Other requests give a span named "HTTP {method}".
// The span ends when the response body reaches EOF, fails or is closed (at
// once on an error) and then carries the facts the layers under it wrote to
// the request's [transport.Record]: attempts, backoff, Retry-After honoured,
// gate wait and key, scheduling wait, breaker state, fallback, outcome.
//
// The request passed on is a shallow copy whose context carries the span and
// a [transport.Record] (the caller's record, when it brought one).
func (t *Telemetry) Wrap(next http.RoundTripper) http.RoundTripper {
	if t == nil || t.tracer == nil {
		return roundtrip.Base(next)
	}
	return &logicalTransport{t: t, next: roundtrip.Base(next)}
}

type logicalTransport struct {
	t    *Telemetry
	next http.RoundTripper
}

// CloseIdleConnections forwards to the wrapped transport.
func (l *logicalTransport) CloseIdleConnections() { roundtrip.CloseIdleConnections(l.next) }

// callKey carries the *call of a logical request to the attempt layer.
type callKey struct{}

// call is the state of one logical request, from RoundTrip until the body
// is done.
type call struct {
	t         *Telemetry
	span      trace.Span
	recording bool
	metrics   bool
	start     time.Time
	rec       *transport.Record
	ctx       context.Context
	provider  string
	method    string
	host      string
	port      int
	chat      bool
	req       usage.Request
	status    int
	scanned   bool
	body      usage.Body

	// Written by the attempt layer.
	attemptsSeen atomic.Int32
	gateSeen     atomic.Int64
}

func (l *logicalTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t := l.t
	if t.idle.tracer() && t.idle.meter() {
		// Nothing can record: the fast way through.
		return roundtrip.Do(l.next, req)
	}
	ctx, span := t.start(req.Context(), logicalSpanName, req.Method)
	recording := span.IsRecording()
	metrics := t.metricsOn(ctx)
	if !recording && !metrics {
		return roundtrip.Do(l.next, req)
	}
	c := &call{t: t, span: span, recording: recording, metrics: metrics, start: t.now(), provider: t.provider(req)}
	c.method, c.host, c.port = serverAttrs(req)
	if c.rec = transport.RecordFrom(ctx); c.rec == nil {
		c.rec = new(transport.Record)
		ctx = transport.ContextWithRecord(ctx, c.rec)
	}
	ctx = context.WithValue(ctx, callKey{}, c)
	c.ctx = ctx
	if c.chat = isChat(req); c.chat {
		c.req = t.readChatRequest(req)
	}
	if recording {
		attrs := requestAttrs(req)
		if c.chat {
			name := "chat"
			if c.req.Model != "" {
				name = "chat " + c.req.Model
			}
			span.SetName(name)
			attrs = append(attrs, attrOperation.String("chat"), attrProvider.String(c.provider))
			if c.req.Model != "" {
				attrs = append(attrs, attrRequestModel.String(c.req.Model))
			}
			if c.req.HasStream {
				attrs = append(attrs, attrRequestStream.Bool(c.req.Stream))
			}
		}
		span.SetAttributes(attrs...)
	}

	resp, err := roundtrip.Do(l.next, req.WithContext(ctx))
	if err != nil {
		c.end(err)
		return nil, err
	}
	c.status = resp.StatusCode
	if c.chat && resp.StatusCode >= 200 && resp.StatusCode < 300 && resp.Body != nil && resp.Body != http.NoBody {
		c.scanned = true
		c.body.Init(resp.Body, usage.IsEventStream(resp.Header))
		resp.Body = httpbody.OnDone(&c.body, c.bodyDone)
	} else {
		resp.Body = httpbody.OnDone(resp.Body, c.bodyDone)
	}
	return resp, nil
}

func (c *call) bodyDone(err error) {
	if httpbody.Failed(err) {
		c.end(err)
		return
	}
	c.end(nil)
}

// end settles the logical request: err is the RoundTrip error or the body's
// read error, nil when the exchange succeeded at the transport level.
func (c *call) end(err error) {
	t := c.t
	dur := t.now().Sub(c.start).Seconds()
	facts := c.rec.Facts()
	outcome := transport.ClassifyStatus(c.status)
	if err != nil {
		outcome = transport.Classify(nil, err)
	}
	errType := errorType(c.status, outcome.String(), err != nil)
	if err != nil && facts.Stalled {
		errType = errTypeStalled
	}
	var res usage.Usage
	if c.scanned {
		res = c.body.Usage()
	}
	attempts := facts.Attempts
	if attempts < 1 {
		attempts = 1
	}

	if c.recording {
		span := c.span
		attrs := make([]attribute.KeyValue, 0, 16)
		if c.status != 0 {
			attrs = append(attrs, attrStatus.Int(c.status))
		}
		if errType != "" {
			attrs = append(attrs, attrErrorType.String(errType))
			span.SetStatus(codes.Error, errType)
		}
		if res.Model != "" {
			attrs = append(attrs, attrResponseModel.String(res.Model))
		}
		if res.HasInput {
			attrs = append(attrs, attrInputTokens.Int64(res.Input))
		}
		if res.HasOutput {
			attrs = append(attrs, attrOutputTokens.Int64(res.Output))
		}
		attrs = appendFacts(attrs, facts, attempts)
		attrs = append(attrs, attrOutcome.String(outcome.String()))
		span.SetAttributes(attrs...)
		span.End()
	}

	if !c.metrics {
		return
	}
	ctx := c.ctx
	prio := attrPriority.String(transport.PriorityFrom(ctx).String())
	t.requests.Add(ctx, 1, metric.WithAttributeSet(keyedSet(facts.GateKey,
		attrOutcome.String(outcome.String()), prio, attrServerAddress.String(c.host))))
	if attempts > 1 || facts.RetryRefused {
		where := metric.WithAttributeSet(keyedSet(facts.GateKey, prio, attrServerAddress.String(c.host)))
		if attempts > 1 {
			t.retries.Add(ctx, int64(attempts-1), where)
		}
		if facts.RetryRefused {
			t.refused.Add(ctx, 1, where)
		}
	}
	if c.chat {
		base := []attribute.KeyValue{
			attrOperation.String("chat"),
			attrProvider.String(c.provider),
			attrServerAddress.String(c.host),
			attrServerPort.Int(c.port),
		}
		if c.req.Model != "" {
			base = append(base, attrRequestModel.String(c.req.Model))
		}
		if res.Model != "" {
			base = append(base, attrResponseModel.String(res.Model))
		}
		opAttrs := base
		if errType != "" {
			opAttrs = append(opAttrs[:len(opAttrs):len(opAttrs)], attrErrorType.String(errType))
		}
		t.opDuration.Record(ctx, dur, metric.WithAttributeSet(attribute.NewSet(opAttrs...)))
		if res.HasInput {
			t.tokenUsage.Record(ctx, res.Input, metric.WithAttributeSet(attribute.NewSet(
				append(base[:len(base):len(base)], attrTokenType.String("input"))...)))
		}
		if res.HasOutput {
			t.tokenUsage.Record(ctx, res.Output, metric.WithAttributeSet(attribute.NewSet(
				append(base[:len(base):len(base)], attrTokenType.String("output"))...)))
		}
	}
	if c.attemptsSeen.Load() == 0 {
		// No attempt layer in the stack: record the per-attempt measurements
		// once, for the request as a whole.
		t.recordAttempt(ctx, attemptMeasure{
			method: c.method, host: c.host, port: c.port, status: c.status,
			errType: errType, outcome: outcome.String(), prio: prio, duration: dur, key: facts.GateKey,
			gate: facts.GateKey != "" || facts.GateWait > 0, gateWait: facts.GateWait,
			schedule: c.status != 0, scheduleWait: facts.ScheduleWait,
		})
	}
}

// appendFacts adds pacer's facts about the request to attrs.
func appendFacts(attrs []attribute.KeyValue, f transport.Facts, attempts int) []attribute.KeyValue {
	attrs = append(attrs, attrAttempts.Int(attempts))
	if f.Backoff > 0 {
		attrs = append(attrs, attrBackoff.Float64(f.Backoff.Seconds()))
	}
	if f.RetryAfter > 0 {
		attrs = append(attrs, attrRetryAfter.Float64(f.RetryAfter.Seconds()))
	}
	if f.GateKey != "" || f.GateWait > 0 {
		attrs = append(attrs, attrGateWait.Float64(f.GateWait.Seconds()))
	}
	if f.GateKey != "" {
		attrs = append(attrs, attrGateKey.String(f.GateKey))
	}
	if f.ScheduleWait > 0 {
		attrs = append(attrs, attrScheduleWait.Float64(f.ScheduleWait.Seconds()))
	}
	if f.BreakerState != "" {
		attrs = append(attrs, attrBreaker.String(f.BreakerState))
	}
	if f.Fallback {
		attrs = append(attrs, attrFallback.Bool(true))
	}
	if f.Stalled {
		attrs = append(attrs, attrStalled.Bool(true))
	}
	return attrs
}
