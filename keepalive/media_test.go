package keepalive_test

import (
	"testing"

	"github.com/pacerhttp/pacer/keepalive"
)

// mediaCases are Content-Types and the body kind each one gets.
var mediaCases = []struct {
	ct   string
	want uint8
}{
	{"application/json", keepalive.KindJSON},
	{"application/json; charset=utf-8", keepalive.KindJSON},
	{"Application/JSON;charset=UTF-8", keepalive.KindJSON},
	{"  application/json  ;  charset=utf-8", keepalive.KindJSON},
	{"\tapplication/json\r\n", keepalive.KindJSON},
	{"application/json;", keepalive.KindJSON},
	{"application/json;;", keepalive.KindJSON},
	{"application/json; charset", keepalive.KindJSON}, // malformed parameter: ignored
	{"application/json; charset=utf-8; charset=utf-8", keepalive.KindJSON},
	{"application/json; charset=utf-8; charset=latin1", keepalive.KindNone}, // conflicting duplicates
	{`application/json; a="x;y"`, keepalive.KindJSON},
	{"application/problem+json", keepalive.KindJSON},
	{"APPLICATION/VND.API+JSON; charset=utf-8", keepalive.KindJSON},
	{"application/+json", keepalive.KindJSON},
	{"application/x y+json", keepalive.KindNone},
	{"application/a/b+json", keepalive.KindNone},
	{"application/json+xml", keepalive.KindNone},
	{"application/jsonx", keepalive.KindNone},
	{"application/json x", keepalive.KindNone},
	{"application/", keepalive.KindNone},
	{"application", keepalive.KindNone},
	{"json", keepalive.KindNone},
	{"text/event-stream", keepalive.KindSSE},
	{"text/event-stream; charset=utf-8", keepalive.KindSSE},
	{"TEXT/EVENT-STREAM", keepalive.KindSSE},
	{" Text/Event-Stream ;charset=utf-8", keepalive.KindSSE},
	{"text/event-streams", keepalive.KindNone},
	{"text/plain", keepalive.KindNone},
	{"text/html; charset=utf-8", keepalive.KindNone},
	{"", keepalive.KindNone},
	{";", keepalive.KindNone},
	{" ", keepalive.KindNone},
	{"/json", keepalive.KindNone},
	{"application/vnd.\u212a+json", keepalive.KindJSON}, // KELVIN SIGN lowers to ASCII k
	{"application/j\u00e9son", keepalive.KindNone},
	{"application/json\u00a0", keepalive.KindJSON}, // NO-BREAK SPACE is trimmed
	{"application/json\x7f", keepalive.KindNone},
}

func TestMediaKind(t *testing.T) {
	for _, c := range mediaCases {
		if got := keepalive.MediaKind(c.ct); got != c.want {
			t.Errorf("MediaKind(%q) = %d, want %d", c.ct, got, c.want)
		}
		if got := keepalive.ParsedMediaKind(c.ct); got != c.want {
			t.Errorf("ParsedMediaKind(%q) = %d, want %d", c.ct, got, c.want)
		}
	}
}

// The Content-Types servers send are matched without allocating.
func TestMediaKindAllocatesNothing(t *testing.T) {
	for _, ct := range []string{
		"application/json", "application/json; charset=utf-8", "text/event-stream",
		"text/event-stream; charset=utf-8", "application/problem+json", "text/plain",
	} {
		if a := testing.AllocsPerRun(100, func() { keepalive.MediaKind(ct) }); a != 0 {
			t.Errorf("MediaKind(%q): %v allocations, want 0", ct, a)
		}
	}
}

// FuzzMediaKind checks that the matching by hand accepts exactly what
// mime.ParseMediaType does.
func FuzzMediaKind(f *testing.F) {
	for _, c := range mediaCases {
		f.Add(c.ct)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		if got, want := keepalive.MediaKind(ct), keepalive.ParsedMediaKind(ct); got != want {
			t.Errorf("MediaKind(%q) = %d, mime.ParseMediaType gives %d", ct, got, want)
		}
	})
}
