package otelpacer

import (
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
)

// pacer's own attributes. Durations are in seconds.
const (
	attrAttempts      = attribute.Key("pacer.attempts")
	attrBackoff       = attribute.Key("pacer.backoff")
	attrRetryAfter    = attribute.Key("pacer.retry_after")
	attrGateWait      = attribute.Key("pacer.gate.wait")
	attrGateKey       = attribute.Key("pacer.gate.key")
	attrScheduleWait  = attribute.Key("pacer.schedule.wait")
	attrBreaker       = attribute.Key("pacer.breaker.state")
	attrBreakerKey    = attribute.Key("pacer.breaker.key")
	attrFallback      = attribute.Key("pacer.fallback")
	attrStalled       = attribute.Key("pacer.stalled")
	attrRateLimitKind = attribute.Key("pacer.ratelimit.kind")
	attrOutcome       = attribute.Key("pacer.outcome")
	attrPriority      = attribute.Key("pacer.priority")
)

// Semantic-convention attributes, from the newest convention package of the
// OpenTelemetry module that has both the GenAI and the HTTP names.
const (
	attrOperation     = semconv.GenAIOperationNameKey
	attrProvider      = semconv.GenAIProviderNameKey
	attrRequestModel  = semconv.GenAIRequestModelKey
	attrResponseModel = semconv.GenAIResponseModelKey
	attrRequestStream = semconv.GenAIRequestStreamKey
	attrInputTokens   = semconv.GenAIUsageInputTokensKey
	attrOutputTokens  = semconv.GenAIUsageOutputTokensKey
	attrTokenType     = semconv.GenAITokenTypeKey
	attrMethod        = semconv.HTTPRequestMethodKey
	attrStatus        = semconv.HTTPResponseStatusCodeKey
	attrResendCount   = semconv.HTTPRequestResendCountKey
	attrServerAddress = semconv.ServerAddressKey
	attrServerPort    = semconv.ServerPortKey
	attrURLFull       = semconv.URLFullKey
	attrErrorType     = semconv.ErrorTypeKey
)
