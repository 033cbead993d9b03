// Package telemetry shows the recommended stack reporting to an
// OpenTelemetry SDK, in a runnable example with checked output.
//
// The package has no API: everything is in its tests.
package telemetry
