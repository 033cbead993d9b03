package llmtest

import (
	"net"
	"net/http"
	"net/http/httptest"
)

// Server is a fake OpenAI-compatible API listening on loopback: a
// [Handler] served by an [httptest.Server]. Create it with [NewServer] or
// [Listen] and stop it with [Server.Close]. Its methods are safe for
// concurrent use.
type Server struct {
	*Handler
	ts *httptest.Server
}

// NewServer starts a server for cfg on 127.0.0.1 at a random port.
func NewServer(cfg Config) *Server {
	h := NewHandler(cfg)
	return &Server{Handler: h, ts: httptest.NewServer(h)}
}

// Listen starts a server for cfg on addr, such as "127.0.0.1:8080" or
// ":0", so that a program outside Go's tests (in any language) can be
// pointed at [Server.URL]. It returns the error of [net.Listen].
func Listen(addr string, cfg Config) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	h := NewHandler(cfg)
	ts := httptest.NewUnstartedServer(h)
	ts.Listener.Close()
	ts.Listener = l
	ts.Start()
	return &Server{Handler: h, ts: ts}, nil
}

// URL returns the base URL SDKs take, "http://HOST:PORT/v1".
func (s *Server) URL() string { return s.ts.URL + "/v1" }

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ts.Listener.Addr() }

// Client returns an *http.Client configured for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close ends every wait in progress, closes the server and waits until all
// its goroutines have returned. It is safe to call more than once.
func (s *Server) Close() {
	s.Handler.Close()
	s.ts.Close()
}
