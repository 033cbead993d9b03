// Package transport provides the small shared vocabulary that pacer's layers
// are built from: the [Middleware] shape and [Chain], outcome classification
// ([Classify], [Outcome]) and the error classes it reads ([ErrRejected],
// [ErrNoResponse]), request [Priority] carried in the context, the
// rate-limit headers every response may carry ([RateLimits]), and the
// per-request [Record] through which layers report [Facts] to observers.
//
// It imports only the standard library, and no layer imports another layer:
// they meet here. The plumbing the layers share (body hooks, request-body
// replay, the contract checks below) is internal to the module.
//
// # The decorator contract
//
// Every pacer layer is an [http.RoundTripper] decorator that obeys these
// rules:
//
//   - never modify the caller's *http.Request; clone before changing anything;
//   - close the request body on every early return; once a request is handed
//     to the next transport, that transport owns the body;
//   - return a response or an error, never both, never neither;
//   - drain (bounded) and close every response that is not returned;
//   - respect the request's context in every wait.
package transport
