package breaker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
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
	// Header holds headers of the fallback's own configuration (an
	// account or project header, say), set on every request after the
	// caller's allowed headers, replacing any of the same name.
	Header http.Header
	// Query names the query parameters of the caller's request that may
	// cross to the fallback (for example "limit", "after"). None does by
	// default: a query parameter may carry a credential ("key", "token",
	// "sig"). The names are matched exactly.
	Query []string
}

// Retarget returns a transport that sends each request to the provider t
// names, through base (nil means [http.DefaultTransport]): it is meant for
// [Config.Fallback].
//
// It never changes the caller's request. It sends a new request built from
// an allowlist of what may cross from one provider to the other, so that no
// credential of the primary (a header, a cookie, a query parameter) reaches
// the fallback's server whatever its name:
//
//   - the URL takes BaseURL's scheme, user, host and path prefix, and its
//     query is BaseURL's own followed by the caller's parameters that
//     t.Query names (in their order; "&" and ";" both separate them);
//     every other parameter is dropped;
//   - the headers are only Accept, Accept-Encoding, Accept-Language,
//     Cache-Control, Content-Encoding, Content-Type, Idempotency-Key and
//     User-Agent from the caller's request, then t.Header, then
//     "Authorization: Bearer <t.APIKey>" when t.APIKey is set; trailers are
//     dropped;
//   - the method, body, ContentLength, GetBody and context are the
//     caller's.
//
// Credentials for the fallback thus come only from t. With t.Model set, the
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

// crossingHeaders are the only headers of the caller's request a
// retargeted request carries (canonical form): they describe the body and
// what the caller accepts, never who the caller is.
var crossingHeaders = [...]string{
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control",
	"Content-Encoding", "Content-Type", "Idempotency-Key", "User-Agent",
}

func (r *retargeter) RoundTrip(req *http.Request) (*http.Response, error) {
	// A shallow copy whose URL, Header and Trailer are new: nothing of the
	// caller's request is modified, and nothing is copied only to be
	// dropped.
	out := req.WithContext(req.Context())
	out.URL = r.rewriteURL(req.URL)
	out.Host = ""
	out.Trailer = nil
	out.Header = make(http.Header, len(crossingHeaders)+len(r.target.Header)+1)
	for _, h := range crossingHeaders {
		if v := req.Header[h]; len(v) > 0 {
			out.Header[h] = append([]string(nil), v...)
		}
	}
	for k, v := range r.target.Header {
		out.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	if r.target.APIKey != "" {
		out.Header.Set("Authorization", "Bearer "+r.target.APIKey)
	}
	if r.target.Model != "" && req.Body != nil && req.Body != http.NoBody {
		if err := r.rewriteBody(out, req.Body); err != nil {
			return nil, err
		}
	}
	return roundtrip.Do(r.base, out)
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
	u.Fragment, u.RawFragment = "", ""
	u.ForceQuery = false
	q := r.url.RawQuery
	if keep := r.allowedQuery(in.RawQuery); keep != "" {
		if q != "" {
			q += "&"
		}
		q += keep
	}
	u.RawQuery = q
	return &u
}

// allowedQuery returns the parameters of raw that Target.Query names,
// joined by "&". A parameter's name is compared after unescaping, so an
// escaped name cannot pass for an allowed one, nor an allowed one be lost.
func (r *retargeter) allowedQuery(raw string) string {
	if raw == "" || len(r.target.Query) == 0 {
		return ""
	}
	var b strings.Builder
	for raw != "" {
		var pair string
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			pair, raw = raw[:i], raw[i+1:]
		} else {
			pair, raw = raw, ""
		}
		name, _, _ := strings.Cut(pair, "=")
		if n, err := url.QueryUnescape(name); err != nil || !slices.Contains(r.target.Query, n) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	return b.String()
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
