package otelpacer

import (
	"net/url"
	"strings"
)

// redacted replaces the value of a sensitive query parameter, as the HTTP
// semantic conventions ask.
const redacted = "REDACTED"

// sensitiveParam reports whether a query parameter may carry a credential.
// Names are compared without case, and "-" counts as "_".
func sensitiveParam(name string) bool {
	switch strings.ReplaceAll(strings.ToLower(name), "-", "_") {
	case "key", "api_key", "apikey", "token", "access_token", "id_token", "refresh_token",
		"auth", "authorization", "password", "passwd", "secret", "client_secret",
		"sig", "signature", "x_goog_signature", "x_amz_signature", "x_amz_credential",
		"x_amz_security_token", "awsaccesskeyid", "code", "session", "sessionid":
		return true
	}
	return false
}

// fullURL returns u as the url.full attribute: without user information,
// and with the value of every sensitive query parameter replaced by
// "REDACTED". The fragment is dropped; it is never sent.
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

// redactQuery rewrites a raw query, keeping its order and encoding, with the
// values of sensitive parameters replaced.
func redactQuery(q string) string {
	if q == "" {
		return q
	}
	var b strings.Builder
	changed := false
	rest := q
	for first := true; ; first = false {
		part, tail, more := strings.Cut(rest, "&")
		name, _, hasValue := strings.Cut(part, "=")
		if !first {
			b.WriteByte('&')
		}
		dec, err := url.QueryUnescape(name)
		if err != nil {
			dec = name
		}
		if hasValue && sensitiveParam(dec) {
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
