package transport

import "net/http"

// Middleware decorates an [http.RoundTripper]. Every pacer layer exposes one
// as a method value, for example retry's (*Retrier).Wrap.
type Middleware func(http.RoundTripper) http.RoundTripper

// RoundTripperFunc adapts an ordinary function to [http.RoundTripper].
type RoundTripperFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f(req).
func (f RoundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) {
	return f(req)
}

// Chain stacks middlewares over base. mw[0] is the outermost: a request passes
// through mw[0], then mw[1], and so on, and finally base. A nil base means
// [http.DefaultTransport]; nil middlewares are skipped.
func Chain(base http.RoundTripper, mw ...Middleware) http.RoundTripper {
	rt := base
	if rt == nil {
		rt = http.DefaultTransport
	}
	for i := len(mw) - 1; i >= 0; i-- {
		if mw[i] != nil {
			rt = mw[i](rt)
		}
	}
	return rt
}
