// Package anthropic shows pacer under github.com/anthropics/anthropic-sdk-go,
// in runnable examples with checked output, and tests that the SDK sees what
// it expects through the recommended stack: its own typed errors, 529s
// ridden out, stalled streams that end.
//
// anthropic-sdk-go takes the client through option.WithHTTPClient. Turn its
// own retries off with option.WithMaxRetries(0) (it makes two by default, on
// 408, 409, 429 and every 5xx, 529 included): they would sit above pacer, so
// that each SDK retry would start pacer's retries anew, outside the retry
// budget and without the gate's pacing.
//
// The package has no API: everything is in its tests.
package anthropic
