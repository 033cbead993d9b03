// Package openaigo shows pacer under github.com/openai/openai-go/v3, in
// runnable examples with checked output, and tests that the SDK sees what it
// expects through the recommended stack: its own typed errors, streams
// without keep-alive comments, stalled streams that end.
//
// openai-go takes the client through option.WithHTTPClient. Turn its own
// retries off with option.WithMaxRetries(0): they would sit above pacer, so
// that each SDK retry would start pacer's retries anew, outside the retry
// budget and without the gate's pacing.
//
// The package has no API: everything is in its tests.
package openaigo
