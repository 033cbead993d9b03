package keepalive

import (
	"mime"
	"strings"
	"unicode/utf8"
)

// mediaKind maps a Content-Type to a body kind: text/event-stream, and
// application/json or application/*+json, compared without case, with any
// parameters. It accepts exactly what [mime.ParseMediaType] does (a value
// whose parameters are malformed included, as they are ignored), without
// allocating for the values servers send: a media type in ASCII with at most
// one parameter. Anything else is left to [mime.ParseMediaType].
func mediaKind(contentType string) uint8 {
	switch contentType {
	// What the APIs send, spelled exactly: no parsing needed.
	case "application/json", "application/json; charset=utf-8":
		return kindJSON
	case "text/event-stream", "text/event-stream; charset=utf-8":
		return kindSSE
	}
	base, params, _ := strings.Cut(contentType, ";")
	if !isASCII(base) || strings.IndexByte(params, ';') >= 0 {
		return parsedMediaKind(contentType)
	}
	// ASCII only: the case folding and space trimming of ParseMediaType
	// are the ASCII ones. With at most one parameter, the only error the
	// parameters can cause is ErrInvalidMediaParameter, which is accepted.
	mt := strings.TrimSpace(base)
	switch {
	case strings.EqualFold(mt, "text/event-stream"):
		return kindSSE
	case strings.EqualFold(mt, "application/json"):
		return kindJSON
	case isJSONSuffixType(mt):
		return kindJSON
	}
	return kindNone
}

// isJSONSuffixType reports whether mt, in ASCII, is application/*+json: the
// subtype a token ending in "+json", in any case.
func isJSONSuffixType(mt string) bool {
	const prefix, suffix = "application/", "+json"
	if len(mt) < len(prefix)+len(suffix) || !strings.EqualFold(mt[:len(prefix)], prefix) {
		return false
	}
	sub := mt[len(prefix):]
	return strings.EqualFold(sub[len(sub)-len(suffix):], suffix) && isToken(sub)
}

// parsedMediaKind is mediaKind through [mime.ParseMediaType].
func parsedMediaKind(contentType string) uint8 {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil && err != mime.ErrInvalidMediaParameter {
		return kindNone
	}
	switch {
	case mt == "text/event-stream":
		return kindSSE
	case mt == "application/json",
		strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"):
		return kindJSON
	}
	return kindNone
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isToken reports whether s is a token of RFC 1521 as [mime] reads it: one
// or more ASCII characters other than controls, space and tspecials.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}
