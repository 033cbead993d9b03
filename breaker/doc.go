// Package breaker provides a circuit breaker for LLM API transports: when a
// provider starts failing (a spike of 503s, other 5xx, network errors,
// timeouts) it stops sending it requests for a while, fails fast instead of
// making every caller wait on retries that cannot succeed, sheds Background
// work, probes for recovery, and can send Interactive requests to another
// OpenAI-compatible provider meanwhile.
//
// It is built on failsafe-go's circuitbreaker: a time-based failure-rate
// threshold opens a circuit, a delay keeps it open, and a bounded number of
// half-open probes close it again or re-open it.
//
//	b := breaker.New(breaker.Config{})
//	client := &http.Client{Transport: transport.Chain(nil, b.Wrap)}
//
// # What counts
//
// A failure is a 503 or 529, any other 5xx, a network error, a timeout, or a
// response body that fails while being read (the outcome is settled when
// the body ends, so a stream that breaks after a 200 counts). A 429 is
// pacing, not failure, unless [Config.CountRateLimited] is set. A 402 or any
// other 4xx is the server answering, so it counts as a success, as does a
// body the caller closes early. A request its caller cancels does not count
// (see [Config.Probes] for a canceled probe), nor does one that a layer
// below refused to send (an error matching [transport.ErrRejected]: the
// gate's queue was full, or the request's deadline passed while it waited
// there). The breaker sits under the retry layer, so it counts attempts;
// [Config.FailureRate] says why its default is 90%.
//
// # Keys
//
// There is one circuit per key, by default the request's host, so one
// provider's outage never opens another's circuit. [Config.Key] keys
// otherwise; [Breaker.StateOf] reads one key's state, [Breaker.State] the
// worst of them.
//
// # Open
//
// While a circuit is open, and while it is half-open with every probe in
// flight, Background requests ([transport.PriorityFrom]) fail at once with
// an [*OpenError] matching [ErrOpen]; Interactive requests go to
// [Config.Fallback] when one is set, else fail the same way. [Retarget]
// builds a fallback that sends the request to another OpenAI-compatible
// provider with its own key and model. Each request's [transport.Record]
// learns the state it met and whether the fallback served it;
// [Config.OnStateChange] hears every change.
//
// # The clock
//
// failsafe-go's circuit reads the wall clock and takes no other. This
// package times the open delay itself (by its own clock, which tests
// replace) and half-opens failsafe-go's circuit through its public API when
// the delay has passed; failsafe-go never leaves the open state on its own.
// The failure-rate window ([Config.Period]) stays on failsafe-go's wall
// clock.
//
// # The RoundTripper contract
//
// The breaker interprets responses, which [http.RoundTripper] says a
// transport should not do: counting failures is its job. It returns
// responses unchanged, apart from wrapping the body of a response whose
// status is not a failure, to learn how it ends (the caller must close it,
// as always); it closes the request body when it refuses a
// request; it never modifies the caller's request (the fallback receives it
// as is, and [Retarget] works on a clone).
package breaker
