package breaker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/pacerhttp/pacer/internal/replay"
	"github.com/pacerhttp/pacer/internal/roundtrip"
)

// ErrBodyTooLarge is returned by a [Retarget] transport that must rewrite
// the model of a request body longer than [Target.MaxBody].
var ErrBodyTooLarge = errors.New("breaker: request body too large to rewrite its model for the fallback provider; raise Target.MaxBody")

// Target is another OpenAI-compatible provider for [Retarget].
type Target struct {
	// BaseURL is the provider's base URL as its SDKs take it, for example
	// "https://api.openai.com/v1" or "https://openrouter.ai/api/v1".
	BaseURL string
	// APIKey is sent as "Authorization: Bearer <APIKey>". Empty sends no
	// Authorization at all; the primary's is never sent.
	APIKey string
	// Model, when set, replaces the value of the top-level "model" member
	// of a JSON request body. Empty leaves the body as it is.
	Model string
	// StripPrefix is the path prefix of the primary's base URL, removed from
	// the request path before the rest is appended to BaseURL's path. Empty
	// means "/v1"; a path that does not start with it is kept whole, so the
	// default fits both "https://api.deepseek.com" and ".../v1" primaries.
	StripPrefix string
	// MaxBody bounds the bytes read to rewrite Model. Zero means 4 MiB.
	MaxBody int64
}

// Retarget returns a transport that sends each request to the provider t
// names, through base (nil means [http.DefaultTransport]): it is meant for
// [Config.Fallback].
//
// It never changes the caller's request; it sends a clone whose URL takes
// BaseURL's scheme, host and path prefix (the query is kept, after any of
// BaseURL's own), whose Authorization is t's, and which has none of the
// primary's credentials and account headers (Authorization, api-key,
// x-api-key, OpenAI-Organization, OpenAI-Project). With t.Model set, the
// body is read (at most t.MaxBody bytes, else [ErrBodyTooLarge]), its
// "model" rewritten with every other byte kept, and the clone gets the new
// body with ContentLength and GetBody to match; a body that is not a JSON
// object is sent as it was read. The request body is closed on every path.
//
// Retarget returns an error when BaseURL is not an absolute http or https
// URL. The transport is safe for concurrent use.
func Retarget(base http.RoundTripper, t Target) (http.RoundTripper, error) {
	u, err := url.Parse(t.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("breaker: fallback base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("breaker: fallback base URL %q: want an absolute http or https URL", t.BaseURL)
	}
	if t.StripPrefix == "" {
		t.StripPrefix = "/v1"
	}
	t.StripPrefix = strings.TrimSuffix(t.StripPrefix, "/")
	if t.MaxBody <= 0 {
		t.MaxBody = replay.DefaultBuffer
	}
	return &retargeter{base: roundtrip.Base(base), target: t, url: u}, nil
}

type retargeter struct {
	base   http.RoundTripper
	target Target
	url    *url.URL
}

// primaryHeaders are dropped from every retargeted request.
var primaryHeaders = [...]string{"Authorization", "Api-Key", "X-Api-Key", "Openai-Organization", "Openai-Project"}

func (r *retargeter) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL = r.rewriteURL(req.URL)
	out.Host = ""
	for _, h := range primaryHeaders {
		out.Header.Del(h)
	}
	if r.target.APIKey != "" {
		out.Header.Set("Authorization", "Bearer "+r.target.APIKey)
	}
	if r.target.Model != "" && req.Body != nil && req.Body != http.NoBody {
		if err := r.rewriteBody(out, req.Body); err != nil {
			return nil, err
		}
	}
	return r.base.RoundTrip(out)
}

func (r *retargeter) rewriteURL(in *url.URL) *url.URL {
	u := *in
	u.Scheme, u.Host, u.User = r.url.Scheme, r.url.Host, r.url.User
	p := in.Path
	if pre := r.target.StripPrefix; p == pre || strings.HasPrefix(p, pre+"/") {
		p = p[len(pre):]
	}
	u.Path = strings.TrimSuffix(r.url.Path, "/") + p
	u.RawPath = ""
	switch {
	case r.url.RawQuery == "":
	case in.RawQuery == "":
		u.RawQuery = r.url.RawQuery
	default:
		u.RawQuery = r.url.RawQuery + "&" + in.RawQuery
	}
	return &u
}

// rewriteBody reads body (closing it), rewrites its model, and installs the
// result as out's body.
func (r *retargeter) rewriteBody(out *http.Request, body io.ReadCloser) error {
	data, err := io.ReadAll(io.LimitReader(body, r.target.MaxBody+1))
	_ = body.Close()
	if err != nil {
		return fmt.Errorf("breaker: reading request body for the fallback: %w", err)
	}
	if int64(len(data)) > r.target.MaxBody {
		return ErrBodyTooLarge
	}
	data, _ = rewriteModel(data, r.target.Model)
	out.ContentLength = int64(len(data))
	out.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	out.Body, _ = out.GetBody()
	return nil
}

// CloseIdleConnections forwards to the base transport.
func (r *retargeter) CloseIdleConnections() { roundtrip.CloseIdleConnections(r.base) }
