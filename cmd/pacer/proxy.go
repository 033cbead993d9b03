package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/transport"
)

// proxyConfig configures a proxy handler.
type proxyConfig struct {
	// Upstream is the one API forwarded to: scheme, host and an optional
	// path prefix without a trailing slash.
	Upstream *url.URL
	// Stack sends every forwarded request.
	Stack *pacer.Stack
	// AllowHosts are host names, besides loopback ones, that the Host
	// header may carry.
	AllowHosts []string
	// Key, when not empty, is sent upstream in KeyHeader instead of what
	// the caller sent there.
	Key, KeyHeader string
	// MaxBody bounds a request body; a larger one gets 413.
	MaxBody int64
	// Log receives refusals, upstream errors and, at debug level, one line
	// per request; never a header value or a body.
	Log *slog.Logger
	// Metrics, when not nil, answers GET /pacer/metrics.
	Metrics http.Handler
	// Shared reports that the gate's limit lives in Redis.
	Shared bool
}

// proxy forwards every request to one upstream through a pacer stack, and
// answers /healthz, /pacer/stats and /pacer/metrics itself. It is not a
// forward proxy: CONNECT, absolute-form request URLs and Host headers that
// name another host are refused before anything is sent.
type proxy struct {
	cfg      proxyConfig
	keyValue string // the header value sent for cfg.Key
	hosts    map[string]bool
	rp       *httputil.ReverseProxy
	log      *slog.Logger

	// active counts the handlers forwarding a request, so that shutdown can
	// wait for them to unwind after cutting their connections.
	active sync.WaitGroup
}

func newProxy(cfg proxyConfig) *proxy {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.KeyHeader == "" {
		cfg.KeyHeader = "Authorization"
	}
	cfg.KeyHeader = http.CanonicalHeaderKey(cfg.KeyHeader)
	p := &proxy{cfg: cfg, hosts: map[string]bool{}, log: cfg.Log}
	for _, h := range cfg.AllowHosts {
		p.hosts[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	if cfg.Key != "" {
		p.keyValue = cfg.Key
		if cfg.KeyHeader == "Authorization" {
			p.keyValue = "Bearer " + cfg.Key
		}
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:       p.rewrite,
		Transport:     cfg.Stack,
		FlushInterval: -1, // every write is flushed: SSE chunks go out as they arrive
		ErrorHandler:  p.upstreamError,
		ErrorLog:      slog.NewLogLogger(cfg.Log.Handler(), slog.LevelWarn),
	}
	return p
}

// Paths the proxy answers itself; nothing under /pacer/ is forwarded.
const (
	healthPath  = "/healthz"
	statsPath   = "/pacer/stats"
	metricsPath = "/pacer/metrics"
	ownPrefix   = "/pacer/"
)

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		p.refuse(w, r, http.StatusMethodNotAllowed, "CONNECT is refused: this is a reverse proxy for one upstream, not a forward proxy")
		return
	case r.URL.IsAbs() || r.URL.Host != "":
		p.refuse(w, r, http.StatusBadRequest, "absolute-form request URLs are refused: this is a reverse proxy for one upstream; send the path only, e.g. POST /v1/chat/completions")
		return
	case !p.hostAllowed(r):
		p.refuse(w, r, http.StatusMisdirectedRequest, "the Host header names a host this proxy does not serve; call it by a loopback address or a name given with -allow-host")
		return
	case r.Header.Get("Origin") != "" || fromOtherSite(r):
		p.refuse(w, r, http.StatusForbidden, "requests from web pages (with an Origin header) are refused")
		return
	case !strings.HasPrefix(r.URL.Path, "/"):
		p.refuse(w, r, http.StatusBadRequest, "the request target must be a path beginning with /")
		return
	}
	switch {
	case r.URL.Path == healthPath:
		p.own(w, r, func() { w.Header().Set("Content-Type", "text/plain; charset=utf-8"); io.WriteString(w, "ok\n") })
		return
	case r.URL.Path == statsPath:
		p.own(w, r, func() { p.writeStats(w) })
		return
	case r.URL.Path == metricsPath && p.cfg.Metrics != nil:
		p.own(w, r, func() { p.cfg.Metrics.ServeHTTP(w, r) })
		return
	case strings.HasPrefix(r.URL.Path, ownPrefix) || r.URL.Path == "/pacer":
		p.refuse(w, r, http.StatusNotFound, "no such path of the proxy; it answers /healthz, /pacer/stats and, with -metrics, /pacer/metrics")
		return
	}
	p.active.Add(1)
	defer p.active.Done()
	if !p.readBody(w, r) {
		return
	}
	begin := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	p.rp.ServeHTTP(sw, r)
	p.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(begin).Round(time.Microsecond))
}

// fromOtherSite reports whether a browser says it sent r for a page of
// another site: a simple GET (an image, a link followed) carries no Origin,
// but browsers mark it in Sec-Fetch-Site.
func fromOtherSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "none", "same-origin":
		return false
	}
	return true
}

// own answers one of the proxy's own paths: GET and HEAD only.
func (p *proxy) own(w http.ResponseWriter, r *http.Request, serve func()) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		p.refuse(w, r, http.StatusMethodNotAllowed, r.URL.Path+" is read-only: GET or HEAD")
		return
	}
	serve()
}

// hostAllowed reports whether the Host header names this proxy: a
// loopback address or localhost with the port the request came in on, or
// a name given with -allow-host. Checking it defeats DNS rebinding,
// through which a web page could reach a proxy on loopback under a name of
// its own.
func (p *proxy) hostAllowed(r *http.Request) bool {
	host, port := r.Host, ""
	if h, pt, err := net.SplitHostPort(r.Host); err == nil {
		host, port = h, pt
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	switch {
	case host == "":
		return false
	case p.hosts[host]:
		return true
	case !isLoopbackHost(host):
		return false
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return true
	}
	_, lport, err := net.SplitHostPort(local.String())
	if port == "" {
		port = "80"
	}
	return err != nil || port == lport
}

// readBody reads the request body whole, bounded by MaxBody, so that the
// retry layer can replay it and the gate can key by the model it names.
// It answers 413 or 400 itself and reports false when the body is refused.
func (p *proxy) readBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength > p.cfg.MaxBody {
		p.refuse(w, r, http.StatusRequestEntityTooLarge, "the request body is larger than -max-body")
		return false
	}
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, p.cfg.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			p.refuse(w, r, http.StatusRequestEntityTooLarge, "the request body is larger than -max-body")
		} else {
			p.refuse(w, r, http.StatusBadRequest, "the request body could not be read")
		}
		return false
	}
	body := buf.Bytes()
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.Body, _ = r.GetBody()
	if len(body) == 0 {
		r.Body, r.GetBody = http.NoBody, nil
	}
	return true
}

// rewrite turns the caller's request into the upstream's. The reverse
// proxy has already removed the hop-by-hop headers of RFC 9110 (Connection
// and the headers it names, Keep-Alive, Proxy-Connection,
// Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding,
// Upgrade) and every Forwarded and X-Forwarded-* header, but puts back
// "TE: trailers" and, for an upgrade, Connection and Upgrade; rewrite
// removes those and every other Proxy-* header.
func (p *proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.cfg.Upstream)
	h := pr.Out.Header
	for k := range h {
		if strings.HasPrefix(k, "Proxy-") {
			delete(h, k)
		}
	}
	// An upgrade (WebSocket, h2c) is not forwarded: the layers speak
	// HTTP requests and responses only.
	h.Del("Upgrade")
	h.Del("Connection")
	h.Del("Te")
	// The base transport asks for gzip itself and decompresses, so the
	// keep-alive filter and the usage readers see plain text; the caller
	// gets plain text, which costs nothing on loopback.
	h.Del("Accept-Encoding")
	if p.keyValue != "" {
		h.Set(p.cfg.KeyHeader, p.keyValue)
	}
}

// upstreamError answers a request the stack returned no response for.
func (p *proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its URL may carry a query the log must not see
	}
	status := http.StatusBadGateway
	switch {
	case r.Context().Err() != nil:
		// The caller went away; nobody reads the answer.
		p.log.Debug("caller went away", "method", r.Method, "path", r.URL.Path)
		return
	case errors.Is(err, transport.ErrRejected):
		status = http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		status = http.StatusGatewayTimeout
	}
	p.log.Warn("upstream request failed", "method", r.Method, "path", r.URL.Path, "status", status, "error", err.Error())
	writeError(w, status, "pacer proxy: "+err.Error())
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// refuse answers a request the proxy will not forward.
func (p *proxy) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p.log.Warn("refused", "method", r.Method, "path", r.URL.EscapedPath(), "status", status, "reason", msg)
	writeError(w, status, "pacer proxy: "+msg)
}

// writeError writes an error in the OpenAI error format, which SDKs
// report as it is.
func writeError(w http.ResponseWriter, status int, msg string) {
	var body struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		} `json:"error"`
	}
	body.Error.Message, body.Error.Type = msg, "pacer_proxy_error"
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// statusWriter records the status written through it. Unwrap lets
// http.ResponseController reach the connection's Flush.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
