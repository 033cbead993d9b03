// Package goopenai shows pacer under github.com/sashabaranov/go-openai, in
// runnable examples with checked output, and tests that the SDK sees what it
// expects through the recommended stack: its own typed errors, streams
// without keep-alive comments, stalled streams that end.
//
// go-openai takes the client through ClientConfig.HTTPClient and has no
// retries of its own, so nothing needs turning off.
//
// The package has no API: everything is in its tests.
package goopenai
