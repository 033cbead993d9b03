package quota

import (
	"net/http"
	"sync/atomic"
)

// hostState says whether a host has announced rate limits. Until it does,
// a request to it costs the layer a look at the response's headers, and
// once it has answered quietAfter responses without any, one look in
// quietSample: a server sends its rate-limit headers on every response or
// on none.
type hostState struct {
	host      string
	announced atomic.Bool
	quiet     atomic.Uint32
	inflight  atomic.Int64 // requests sent while it was neither announced nor quiet
}

const (
	quietAfter  = 1024
	quietSample = 16
	// maxHosts bounds the hosts remembered; a request to any other host
	// has its response headers looked at every time.
	maxHosts = 1024
)

// hostOf returns the state of req's host, or nil past maxHosts hosts.
func (q *Quota) hostOf(req *http.Request) *hostState {
	host := req.URL.Host
	if hs := q.last.Load(); hs != nil && hs.host == host {
		return hs
	}
	if v, ok := q.hosts.Load(host); ok {
		hs := v.(*hostState)
		q.last.Store(hs)
		return hs
	}
	if q.nhosts.Load() >= maxHosts {
		return nil
	}
	v, loaded := q.hosts.LoadOrStore(host, &hostState{host: host})
	if !loaded {
		q.nhosts.Add(1)
	}
	hs := v.(*hostState)
	q.last.Store(hs)
	return hs
}

// look reports whether to look at the headers of a response from hs.
func (q *Quota) look(hs *hostState) bool {
	return hs == nil || hs.quiet.Load() < quietAfter || q.rnd()%quietSample == 0
}

// quietOne counts a response from hs that announced nothing.
func (hs *hostState) quietOne() {
	if hs != nil && hs.quiet.Load() < quietAfter {
		hs.quiet.Add(1)
	}
}

// hasRateLimits reports whether h holds a rate-limit header, more cheaply
// than parsing them all: every server that sends them sends a remaining
// count of requests or tokens.
func hasRateLimits(h http.Header) bool {
	if len(h) == 0 {
		return false
	}
	for _, k := range presenceHeaders {
		if _, ok := h[k]; ok {
			return true
		}
	}
	return false
}

var presenceHeaders = [...]string{
	"X-Ratelimit-Remaining-Requests",
	"X-Ratelimit-Remaining-Tokens",
	"Anthropic-Ratelimit-Requests-Remaining",
	"Anthropic-Ratelimit-Tokens-Remaining",
	"Anthropic-Ratelimit-Input-Tokens-Remaining",
	"Anthropic-Ratelimit-Output-Tokens-Remaining",
}
