// Package transport provides the small shared vocabulary that pacer's layers
// are built from: the [Middleware] shape and [Chain], outcome classification
// ([Classify]), request priority carried in the context, request-body replay
// ([Replayable]), a response-body hook that fires exactly once ([OnBodyDone]),
// the per-request [Record] through which layers report facts to observers,
// the [ScheduleWaiter] through which a response body tells the layers above
// it how long the server kept it waiting, and [DrainAndClose] for responses
// a layer throws away.
//
// It imports only the standard library, and no layer imports another layer:
// they meet here.
//
// # The decorator contract
//
// Every pacer layer is an [http.RoundTripper] decorator that obeys these
// rules, and the helpers in this package exist to make obeying them easy:
//
//   - never modify the caller's *http.Request; clone before changing anything;
//   - close the request body on every early return; once a request is handed
//     to the next transport, that transport owns the body;
//   - return a response or an error, never both, never neither;
//   - drain (bounded) and close every response that is not returned;
//   - respect the request's context in every wait.
package transport
