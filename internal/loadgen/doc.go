// Package loadgen provides the workload driver behind cmd/pacer: a fixed
// number of chat-completion requests sent by a fixed number of concurrent
// callers through any *http.Client, with live counters that another
// goroutine can read while the run goes on, and a summary at the end.
//
// Attempts (what actually reached the wire, retries included) are counted by
// a [Counter] placed at the base of the client's transport, so a client that
// retries internally is measured as honestly as one that does not.
package loadgen
