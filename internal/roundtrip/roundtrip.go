// Package roundtrip holds what every layer does with the transport under it:
// call it through [Do], which enforces the RoundTripper contract on what it
// returns, default a nil one, and forward CloseIdleConnections to it.
package roundtrip

import (
	"errors"
	"net/http"
)

// Base returns rt, or [http.DefaultTransport] when rt is nil. Layers call it
// in their Wrap so that a nil base has the conventional meaning.
func Base(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}

// CloseIdleConnections forwards to rt's CloseIdleConnections method when it
// has one, as [http.Client.CloseIdleConnections] expects of a decorator.
func CloseIdleConnections(rt http.RoundTripper) {
	type closeIdler interface{ CloseIdleConnections() }
	if c, ok := rt.(closeIdler); ok {
		c.CloseIdleConnections()
	}
}

// ErrNilResponse is what [Do] returns for a transport that returned neither
// a response nor an error.
var ErrNilResponse = errors.New("http: RoundTripper returned a nil *Response with a nil error")

// Do calls rt.RoundTrip(req) and enforces on the result what
// [http.Client] enforces on a transport, so that every layer above sees a
// well-formed result whatever the transport under it does:
//
//   - a nil response with a nil error becomes [ErrNilResponse];
//   - a response returned beside an error is closed and dropped: the error
//     wins, as it does in [http.Client];
//   - a response with a nil Body gets [http.NoBody].
//
// Every layer calls its next transport through Do, once per attempt.
func Do(rt http.RoundTripper, req *http.Request) (*http.Response, error) {
	resp, err := rt.RoundTrip(req)
	switch {
	case err != nil:
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		return nil, err
	case resp == nil:
		return nil, ErrNilResponse
	case resp.Body == nil:
		resp.Body = http.NoBody
	}
	return resp, nil
}
