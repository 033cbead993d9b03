package otelpacer

import (
	"net/url"
	"strings"
)

// redacted replaces the value of a query parameter that may be a secret,
// as the HTTP semantic conventions ask.
const redacted = "REDACTED"

// harmlessParam reports whether a query parameter's value is kept in
// url.full: only the few that the LLM APIs use to select a version or a
// format, or to page through a list. Every other value is replaced: a
// credential may hide under any name (key, x-goog-api-key, sig,
// subscription-key, jwt, ...), so an allowlist, not a denylist. Names are
// compared without case, and "-" counts as "_".
func harmlessParam(name string) bool {
	switch strings.ReplaceAll(strings.ToLower(name), "-", "_") {
	case "api_version", "alt", "beta", "stream", "limit", "after", "before", "order":
		return true
	}
	return false
}

// fullURL returns u as the url.full attribute: without user information,
// and with the value of every query parameter but the harmless ones
// replaced by "REDACTED". The fragment is dropped; it is never sent.
func fullURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	c.RawQuery = redactQuery(u.RawQuery)
	return c.String()
}

// redactQuery rewrites a raw query, keeping its order, its separators ("&",
// and ";", which some servers split on too) and its encoding, with every
// value but those of harmless parameters replaced.
func redactQuery(q string) string {
	if q == "" {
		return q
	}
	var b strings.Builder
	changed := false
	var sep byte
	rest := q
	for first := true; ; first = false {
		i := strings.IndexAny(rest, "&;")
		part, tail, more := rest, "", false
		if i >= 0 {
			part, tail, more = rest[:i], rest[i+1:], true
		}
		name, _, hasValue := strings.Cut(part, "=")
		if !first {
			b.WriteByte(sep)
		}
		if more {
			sep = rest[i]
		}
		dec, err := url.QueryUnescape(name)
		if err != nil {
			dec = name
		}
		if hasValue && !harmlessParam(dec) {
			b.WriteString(name)
			b.WriteString("=" + redacted)
			changed = true
		} else {
			b.WriteString(part)
		}
		if !more {
			break
		}
		rest = tail
	}
	if !changed {
		return q
	}
	return b.String()
}
