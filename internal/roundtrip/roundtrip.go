// Package roundtrip holds what every layer does with the transport under it:
// default a nil one and forward CloseIdleConnections to it.
package roundtrip

import "net/http"

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
