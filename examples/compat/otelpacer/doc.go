// Package otelpacer tests package otelpacer of pacer with a real SDK
// (openai-go) and the fake API of package llmtest: spans per logical request
// and per attempt, token usage from JSON answers and streams, no secret
// recorded.
//
// The package has no API: everything is in its tests.
package otelpacer
