// Package reqscan reads a few top-level fields of a request's JSON body
// without touching the body the request will send: it reads a second copy
// through the request's GetBody, never more than a fixed prefix ([Limit]),
// into a pooled buffer.
//
// The fields are those the gate and the quota layer key and price a request
// by: the top-level strings "model", "user" and "user_id", the top-level
// integers "max_tokens" and "max_completion_tokens", and the body's length.
// Values inside nested objects or arrays are skipped, never reported.
//
// A request without GetBody is not scanned: its body can be read only once,
// and it belongs to the transport that sends it. The retry layer's replay
// buffer gives every request it forwards a GetBody.
package reqscan
