package otelpacer

import (
	"reflect"
	"sync/atomic"

	gotel "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// globalPkg is the package of the delegating providers that
// go.opentelemetry.io/otel hands out before an SDK is installed.
const globalPkg = "go.opentelemetry.io/otel/internal/global"

// idleness tells, without allocating, whether a Telemetry's providers are
// known to record nothing: a no-op provider, or the global delegating
// provider while no SDK has been installed in its place. Then the layers
// start no span and read no instrument.
//
// The global providers delegate to whatever is installed later with
// otel.SetTracerProvider / otel.SetMeterProvider, which also replaces what
// otel.GetTracerProvider / otel.GetMeterProvider return. So a global
// provider is idle as long as it is still the one returned by the getter;
// once the getter returns another, it is live for good. A provider of any
// other kind is never assumed idle: its spans and instruments decide.
//
// Two consequences of not starting spans on the global tracer while no SDK
// is installed: eBPF auto-instrumentation that hooks the global tracer's
// span creation sees no pacer span (install an SDK, or pass its provider in
// [Config]); and a program that installs an SDK and then puts the original
// global provider back with otel.SetTracerProvider, before any request went
// through this Telemetry, is taken for having no SDK.
type idleness struct {
	tracerNoop, meterNoop bool

	// globalTracer and globalMeter are the global delegating providers the
	// Telemetry uses, nil when it uses other providers.
	globalTracer trace.TracerProvider
	globalMeter  metric.MeterProvider
	tracerLive   atomic.Bool
	meterLive    atomic.Bool
}

// init sets id up for the providers tp and mp.
func (id *idleness) init(tp trace.TracerProvider, mp metric.MeterProvider) {
	switch tp.(type) {
	case tracenoop.TracerProvider, *tracenoop.TracerProvider:
		id.tracerNoop = true
	default:
		if isGlobal(tp) && tp == gotel.GetTracerProvider() {
			id.globalTracer = tp
		}
	}
	switch mp.(type) {
	case metricnoop.MeterProvider, *metricnoop.MeterProvider:
		id.meterNoop = true
	default:
		if isGlobal(mp) && mp == gotel.GetMeterProvider() {
			id.globalMeter = mp
		}
	}
}

// isGlobal reports whether p is one of the global delegating providers.
func isGlobal(p any) bool {
	t := reflect.TypeOf(p)
	if t == nil {
		return false
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == globalPkg
}

// tracer reports whether no span can be recorded.
func (id *idleness) tracer() bool {
	if id.tracerNoop {
		return true
	}
	if id.globalTracer == nil || id.tracerLive.Load() {
		return false
	}
	if gotel.GetTracerProvider() == id.globalTracer {
		return true
	}
	id.tracerLive.Store(true)
	return false
}

// meter reports whether no instrument can be enabled.
func (id *idleness) meter() bool {
	if id.meterNoop {
		return true
	}
	if id.globalMeter == nil || id.meterLive.Load() {
		return false
	}
	if gotel.GetMeterProvider() == id.globalMeter {
		return true
	}
	id.meterLive.Store(true)
	return false
}
