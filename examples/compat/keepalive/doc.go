// Package keepalive tests package keepalive of pacer against the SDKs that
// break on keep-alive waits (go-openai, openai-go): with the filter they read
// their streams and answers whole, without it go-openai fails.
//
// The package has no API: everything is in its tests.
package keepalive
