package pacer

import "strings"

// Layer is a set of layers of the recommended stack. [Config].Without takes
// one to leave layers out; combine them with |:
//
//	pacer.Config{Without: pacer.LayerBreaker | pacer.LayerTelemetry}
//
// The zero value is the empty set: every layer is in the stack.
type Layer uint8

// The layers, in the order [New] stacks them, outermost first.
const (
	// LayerTelemetry is both OpenTelemetry layers: the span per logical
	// request (outermost) and the span per attempt (under the gate).
	LayerTelemetry Layer = 1 << iota
	// LayerRetry is the retry layer (package retry).
	LayerRetry
	// LayerBreaker is the circuit breaker (package breaker).
	LayerBreaker
	// LayerQuota is the windowed-quota layer (package quota).
	LayerQuota
	// LayerGate is the concurrency gate (package concurrency).
	LayerGate
	// LayerKeepAlive is the keep-alive filter (package keepalive).
	LayerKeepAlive
)

// AllLayers is every layer; Without: AllLayers leaves only the base
// transport.
const AllLayers = LayerTelemetry | LayerRetry | LayerBreaker | LayerQuota | LayerGate | LayerKeepAlive

var layerNames = [...]struct {
	l    Layer
	name string
}{
	{LayerTelemetry, "telemetry"},
	{LayerRetry, "retry"},
	{LayerBreaker, "breaker"},
	{LayerQuota, "quota"},
	{LayerGate, "gate"},
	{LayerKeepAlive, "keepalive"},
}

// Has reports whether every layer of x is in l.
func (l Layer) Has(x Layer) bool { return l&x == x }

// String lists the layers in l, outermost first, joined by "|"
// ("retry|gate"); the empty set is "none".
func (l Layer) String() string {
	var parts []string
	for _, n := range layerNames {
		if l.Has(n.l) {
			parts = append(parts, n.name)
		}
	}
	if rest := l &^ AllLayers; rest != 0 {
		parts = append(parts, "unknown")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}
