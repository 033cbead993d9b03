package otelpacer

import (
	"net"
	"strings"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Config configures a [Telemetry]. The zero value is ready to use: the
// global tracer and meter providers, and a provider name derived from each
// request's host.
type Config struct {
	// TracerProvider creates the spans. Nil means the global provider
	// (go.opentelemetry.io/otel.GetTracerProvider), looked up when New runs;
	// the global provider delegates to whatever is installed later.
	TracerProvider trace.TracerProvider
	// MeterProvider creates the instruments. Nil means the global provider,
	// as for TracerProvider.
	MeterProvider metric.MeterProvider
	// ProviderName is the gen_ai.provider.name of every request. Empty means
	// derived from the request's host, see [ProviderName].
	ProviderName string
	// Gates are read, at each metric collection, for the gauges
	// pacer.gate.limit, pacer.gate.in_flight and pacer.gate.queued. The
	// concurrency gate satisfies [GateStats]; so does anything with the same
	// method.
	Gates []GateStats
	// Breakers are read, at each metric collection, for pacer.breaker.status,
	// the state of each circuit. The circuit breaker satisfies
	// [BreakerStates]; so does anything with the same method.
	Breakers []BreakerStates
	// RateLimits are read, at each metric collection, for the windowed
	// limits servers announce (pacer.ratelimit.limit and
	// pacer.ratelimit.remaining). The quota layer satisfies
	// [RateLimitStats]; so does anything with the same method.
	RateLimits []RateLimitStats
}

// RateLimitStats is what the telemetry reads of the windowed limits a
// server announced: EachKey calls fn once per key and kind of window
// ("requests", "tokens", "input_tokens", "output_tokens") with the
// window's size and what is left of it. Keys are recorded as
// pacer.gate.key, so they must follow the rules of [GateStats] keys: the
// quota layer of the root stack keys by the gate's key. It is called from
// the metric collector's goroutine and must be safe for concurrent use.
type RateLimitStats interface {
	EachKey(fn func(key, kind string, limit, remaining int64))
}

// GateStats is what the telemetry reads from a concurrency gate: EachKey
// calls fn once for every key the gate tracks, with the key's current limit,
// the requests holding a permit and the requests queued. It is called from
// the metric collector's goroutine and must be safe for concurrent use.
//
// Keys are recorded as given, as the pacer.gate.key attribute, the same
// attribute and value that the per-request metrics take from
// [transport.Facts.GateKey], so that a gate's limit and the outcomes of the
// requests it admitted can be put side by side. A gate keyed by API key
// must expose a digest or a label, never the key itself.
type GateStats interface {
	EachKey(fn func(key string, limit, inFlight, queued int))
}

// BreakerStates is what the telemetry reads from a circuit breaker: EachKey
// calls fn once for every circuit it reports, with the circuit's key (by
// default a host, as "api.deepseek.com") and its state named as
// [transport.Facts.BreakerState] names it: "closed", "half-open" or "open".
// A circuit reported with any other state is left out. It is called from
// the metric collector's goroutine and must be safe for concurrent use.
//
// Keys are recorded as given, as the pacer.breaker.key attribute; like a
// gate's keys they must come from a small set and never be a secret.
type BreakerStates interface {
	EachKey(fn func(key, state string))
}

// ProviderName returns the gen_ai.provider.name for a request to host (with
// or without a port):
//
//   - well-known API hosts map to their semantic-convention names:
//     api.deepseek.com → "deepseek", api.openai.com → "openai",
//     api.anthropic.com → "anthropic", *.openai.azure.com → "azure.ai.openai",
//     api.mistral.ai → "mistral_ai", api.groq.com → "groq", api.x.ai →
//     "x_ai", api.perplexity.ai → "perplexity",
//     generativelanguage.googleapis.com → "gcp.gemini";
//   - an IP address, localhost or a single-label name (a local or fake
//     server) → "openai-compatible";
//   - any other host → its registrable-looking label: the label before the
//     public suffix, where the suffix is the last label, or the last two for
//     a country code under a generic second level such as "co.uk" or
//     "com.cn" ("api.together.xyz" → "together", "llm.example.co.uk" →
//     "example").
func ProviderName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	switch host {
	case "api.deepseek.com":
		return "deepseek"
	case "api.openai.com":
		return "openai"
	case "api.anthropic.com":
		return "anthropic"
	case "api.mistral.ai":
		return "mistral_ai"
	case "api.groq.com":
		return "groq"
	case "api.x.ai":
		return "x_ai"
	case "api.perplexity.ai":
		return "perplexity"
	case "generativelanguage.googleapis.com":
		return "gcp.gemini"
	}
	if strings.HasSuffix(host, ".openai.azure.com") {
		return "azure.ai.openai"
	}
	if host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(strings.Trim(host, "[]")) != nil {
		return "openai-compatible"
	}
	labels := strings.Split(host, ".")
	n := len(labels)
	switch {
	case n == 1:
		return "openai-compatible"
	case n >= 3 && len(labels[n-1]) == 2 && genericSecondLevel(labels[n-2]):
		return labels[n-3]
	default:
		return labels[n-2]
	}
}

func genericSecondLevel(label string) bool {
	switch label {
	case "co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go":
		return true
	}
	return false
}
