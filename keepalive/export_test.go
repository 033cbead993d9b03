package keepalive

import (
	"io"
	"time"
)

// SetClock replaces the filter's clock.
func SetClock(f *Filter, now func() time.Time) { f.now = now }

// SetAfterFunc replaces the filter's timer for Config.MaxWait.
func SetAfterFunc(f *Filter, af func(time.Duration, func()) func() bool) { f.afterFunc = af }

// Body kinds, as MediaKind returns them.
const (
	KindNone = kindNone
	KindJSON = kindJSON
	KindSSE  = kindSSE
)

// MediaKind is the Content-Type matching the filter uses.
func MediaKind(contentType string) uint8 { return mediaKind(contentType) }

// ParsedMediaKind is the same matching done by mime.ParseMediaType alone.
func ParsedMediaKind(contentType string) uint8 { return parsedMediaKind(contentType) }

// FollowsContext reports whether the wait trusts body to end a read when
// the request's context ends.
func FollowsContext(body io.ReadCloser) bool { return followsContext(body) }

// FirstEvent is the parser that finds a stream's first event.
func FirstEvent(b []byte) (name string, data []byte, ok bool) { return firstEvent(b) }

// ErrorEvent is the check that turns a stream's first event into a status.
func ErrorEvent(head []byte) (status int, data []byte) { return errorEvent(head) }

// IdleStopped reports whether the idle deadline of a body the filter
// returned is off or stopped for good.
func IdleStopped(rc io.ReadCloser) bool {
	b, ok := rc.(*body)
	return ok && (b.idle.dog == nil || b.has(stateDone))
}

// Watched is the number of bodies the filter's idle deadline watches.
func Watched(f *Filter) int {
	if f.idle == nil {
		return 0
	}
	f.idle.mu.Lock()
	defer f.idle.mu.Unlock()
	n := 0
	for b := f.idle.head; b != nil; b = b.idle.next {
		n++
	}
	return n
}
