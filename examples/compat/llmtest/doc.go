// Package llmtest tests that the fake API of package llmtest of pacer speaks
// the wire formats the SDKs expect: answers, streams, usage and errors as
// go-openai and openai-go read them.
//
// The package has no API: everything is in its tests.
package llmtest
