package reqscan

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"unicode/utf8"

	"github.com/pacerhttp/pacer/internal/intern"
)

// Limit is the most bytes [Scan] reads from a body. A field whose value
// ends past it is not reported. OpenAI-compatible SDKs put "model" at the
// start of the object or after the messages; a conversation longer than
// Limit that names its model after the messages is scanned without it.
const Limit = 64 << 10

// maxDepth is encoding/json's nesting bound, so that Scan and
// encoding/json agree on which bodies are JSON.
const maxDepth = 10000

// Fields are the top-level fields of a JSON object body. A field that is
// absent, has another JSON type (null included), or does not fit in an
// int64 is the zero value: "model": 5 gives an empty Model. When a key
// occurs more than once the last occurrence wins, as in encoding/json.
type Fields struct {
	Model  string // "model"
	User   string // "user" (OpenAI's end-user identifier)
	UserID string // "user_id" (DeepSeek's per-user isolation identifier)

	MaxTokens           int64 // "max_tokens"
	MaxCompletionTokens int64 // "max_completion_tokens"

	// Length is the body's length in bytes: the request's ContentLength
	// when it states one, else the bytes read. When Truncated is set and
	// ContentLength was unknown, Length is a lower bound (Limit).
	Length int64

	// Truncated reports that the body is longer than Limit (or may be):
	// only its prefix was scanned, and only as far as a valid start of a
	// JSON object.
	Truncated bool
}

// Scan reads req's body through req.GetBody and reports its top-level
// fields. It reports false, with zero Fields, when the request has no body
// or no GetBody, when GetBody or the read fails, or when the body is not a
// JSON object: for a body that fits in [Limit], the whole body must be
// valid JSON, exactly as encoding/json accepts it; for a longer one, the
// prefix must be a valid start of a JSON object.
//
// Scan never reads req.Body, never modifies req, and closes what GetBody
// returned. It allocates nothing but what GetBody allocates and the strings
// it returns, and those only the first time a string is seen: a process
// keeps one copy of each model and user name (up to [intern.Max]; an
// escaped string costs a decode). Safe for concurrent use.
func Scan(req *http.Request) (Fields, bool) {
	return scanRequest(req, 0)
}

// Names reports the top-level "model", "user" and "user_id" of req's JSON
// body as [Scan] does, but reads and checks the body only as far as it
// must: it stops at the first top-level "model" or, when users is set,
// once it has found both "model" and "user_id" (which a key prefers to
// "user"). Where it stops, it stops reading: what follows is not checked,
// so a body that is valid JSON only up to its model still names it, and a
// later duplicate of a field it stopped at is not seen. Only Model, User
// and UserID are set.
//
// A key needs no more: a body that is not JSON is the server's to refuse,
// and the gate reads the model from the first bytes of the bodies of SDKs
// that put it first, however long their conversations.
func Names(req *http.Request, users bool) (Fields, bool) {
	stop := fieldSet(1) << model
	if users {
		stop |= 1 << userID
	}
	f, ok := scanRequest(req, stop)
	f.MaxTokens, f.MaxCompletionTokens, f.Length, f.Truncated = 0, 0, 0, false
	return f, ok
}

// firstRead is how much of a body a scan that may stop early reads first.
const firstRead = 4 << 10

// scanRequest is Scan, ending early once the fields in stop are found (or
// never, when stop is empty).
func scanRequest(req *http.Request, stop fieldSet) (Fields, bool) {
	if req == nil || req.GetBody == nil || req.Body == nil || req.Body == http.NoBody {
		return Fields{}, false
	}
	body, err := req.GetBody()
	if err != nil || body == nil {
		return Fields{}, false
	}
	defer body.Close()

	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)

	size := Limit
	if stop != 0 {
		size = firstRead
	}
	n, complete, ok := read(body, s.buf[:size], 0, req.ContentLength)
	if !ok {
		return Fields{}, false
	}
	f, stopped, ok := s.p.scan(s.buf[:n], complete, stop)
	if ok && !stopped && !complete && size < Limit {
		// The fields were not in the first bytes: read on, and scan it all.
		if n, complete, ok = read(body, s.buf[:Limit], n, req.ContentLength); ok {
			f, _, ok = s.p.scan(s.buf[:n], complete, stop)
		}
	}
	if !ok {
		return Fields{}, false
	}
	f.Length = int64(n)
	if req.ContentLength > 0 {
		f.Length = req.ContentLength
	}
	f.Truncated = !complete && !stopped
	return f, true
}

// scratch is what one Scan works in. Pooled whole, so that a call neither
// allocates the buffer nor clears the parser's stack.
type scratch struct {
	buf [Limit]byte
	p   parser
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// names keeps the model and user names Scan returns.
var names intern.Table

// read fills buf[n:] from r, up to len(buf) bytes in all, stopping early
// when the first non-space byte shows the body is no JSON object, and
// returns the bytes in buf. complete reports that the body ended within
// buf.
func read(r io.Reader, buf []byte, n int, contentLength int64) (_ int, complete, ok bool) {
	checked := false
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if !checked {
			if i := skipSpace(buf[:n], 0); i < n {
				if buf[i] != '{' {
					return 0, false, false
				}
				checked = true
			}
		}
		if err == io.EOF {
			return n, true, true
		}
		if err != nil {
			return 0, false, false
		}
	}
	// A full buffer: the body ended exactly here only if its stated length
	// says so; otherwise reading on to find out would pass the limit (or, for
	// a first read, cost a read).
	return n, contentLength == int64(n), true
}

// errEOF marks a value cut by the end of the data, as opposed to bad syntax.
var (
	errEOF    = errors.New("reqscan: end of data")
	errSyntax = errors.New("reqscan: not JSON")
)

// errStop ends a scan that found what it was asked for.
var errStop = errors.New("reqscan: found")

// scan parses data as a JSON object. When complete is false, data is a
// prefix: running out of it ends the scan with what was found so far. A
// scan stops, unchecked past that point, where the fields in stop have all
// been found (stopped); an empty stop never stops.
func (p *parser) scan(data []byte, complete bool, stop fieldSet) (f Fields, stopped, ok bool) {
	p.data, p.i, p.stop, p.found = data, 0, stop, 0
	defer func() { p.data = nil }() // a pooled parser keeps no body
	err := p.object(&f)
	if err == nil {
		if i := skipSpace(data, p.i); i < len(data) {
			err = errSyntax
		}
	}
	switch {
	case err == nil:
		return f, false, true
	case err == errStop:
		return f, true, true
	case err == errEOF && !complete:
		return f, false, true
	default:
		return Fields{}, false, false
	}
}

// parser is a scan's state. Its stack needs no clearing between scans: a
// container's bit is set when it opens, before it is read.
type parser struct {
	data        []byte
	i           int
	stop, found fieldSet
	stack       [maxDepth/64 + 1]uint64 // bit set: the open container is an array
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (p *parser) peek() (byte, error) {
	p.i = skipSpace(p.data, p.i)
	if p.i >= len(p.data) {
		return 0, errEOF
	}
	return p.data[p.i], nil
}

func (p *parser) expect(c byte) error {
	b, err := p.peek()
	if err != nil {
		return err
	}
	if b != c {
		return errSyntax
	}
	p.i++
	return nil
}

// field names the fields Fields records.
type field int

// fieldSet is a set of fields, bit 1<<f for field f.
type fieldSet uint8

const (
	other field = iota
	model
	user
	userID
	maxTokens
	maxCompletionTokens
)

func fieldOf(name string) field {
	switch name {
	case "model":
		return model
	case "user":
		return user
	case "user_id":
		return userID
	case "max_tokens":
		return maxTokens
	case "max_completion_tokens":
		return maxCompletionTokens
	}
	return other
}

// object parses the top-level object into f.
func (p *parser) object(f *Fields) error {
	if err := p.expect('{'); err != nil {
		return err
	}
	c, err := p.peek()
	if err != nil {
		return err
	}
	if c == '}' {
		p.i++
		return nil
	}
	for {
		if c, err = p.peek(); err != nil {
			return err
		}
		if c != '"' {
			return errSyntax
		}
		start := p.i
		escaped, err := p.str()
		if err != nil {
			return err
		}
		key := other
		if escaped {
			var name string
			if json.Unmarshal(p.data[start:p.i], &name) != nil {
				return errSyntax
			}
			key = fieldOf(name)
		} else {
			key = fieldOf(string(p.data[start+1 : p.i-1])) // no allocation: switch on a conversion
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		if err := p.member(f, key); err != nil {
			return err
		}
		if p.stop != 0 && key != other {
			if p.found |= 1 << key; p.found&p.stop == p.stop {
				return errStop
			}
		}
		if c, err = p.peek(); err != nil {
			return err
		}
		p.i++
		switch c {
		case ',':
		case '}':
			return nil
		default:
			return errSyntax
		}
	}
}

// member parses one value and records it in f when key names a field.
func (p *parser) member(f *Fields, key field) error {
	c, err := p.peek()
	if err != nil {
		return err
	}
	start := p.i
	if err := p.value(); err != nil {
		return err
	}
	raw := p.data[start:p.i]
	switch key {
	case model:
		f.Model = stringOf(c, raw)
	case user:
		f.User = stringOf(c, raw)
	case userID:
		f.UserID = stringOf(c, raw)
	case maxTokens:
		f.MaxTokens = intOf(raw)
	case maxCompletionTokens:
		f.MaxCompletionTokens = intOf(raw)
	}
	return nil
}

// stringOf decodes a complete, valid JSON value raw that starts with c as
// a string, or returns "" when it is not one.
func stringOf(c byte, raw []byte) string {
	if c != '"' {
		return ""
	}
	inner := raw[1 : len(raw)-1]
	plain := utf8.Valid(inner)
	for _, b := range inner {
		if b == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return names.Bytes(inner)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// intOf returns the valid JSON value raw as an int64 when it is an integer
// literal that fits, else 0.
func intOf(raw []byte) int64 {
	neg := false
	if len(raw) > 0 && raw[0] == '-' {
		neg = true
		raw = raw[1:]
	}
	if len(raw) == 0 {
		return 0
	}
	var u uint64
	for _, b := range raw {
		if b < '0' || b > '9' {
			return 0 // a fraction, an exponent, or no number at all
		}
		d := uint64(b - '0')
		if u > (1<<64-1-d)/10 {
			return 0
		}
		u = u*10 + d
	}
	switch {
	case !neg && u <= 1<<63-1:
		return int64(u)
	case neg && u <= 1<<63:
		return -int64(u-1) - 1
	}
	return 0
}

// value skips one JSON value of any kind, validating it.
func (p *parser) value() error {
	depth := 0
	for {
		// A value is expected here.
		c, err := p.peek()
		if err != nil {
			return err
		}
		switch c {
		case '{', '[':
			depth++
			if depth+1 > maxDepth { // the top-level object is one level
				return errSyntax
			}
			p.setArray(depth, c == '[')
			p.i++
			n, err := p.peek()
			if err != nil {
				return err
			}
			if (c == '{' && n == '}') || (c == '[' && n == ']') {
				p.i++
				depth--
				break
			}
			if c == '{' {
				if err := p.key(); err != nil {
					return err
				}
			}
			continue
		case '"':
			if _, err := p.str(); err != nil {
				return err
			}
		case 't':
			if err := p.literal("true"); err != nil {
				return err
			}
		case 'f':
			if err := p.literal("false"); err != nil {
				return err
			}
		case 'n':
			if err := p.literal("null"); err != nil {
				return err
			}
		default:
			if err := p.number(); err != nil {
				return err
			}
		}
		// After a value: close containers or move to the next element.
		for {
			if depth == 0 {
				return nil
			}
			c, err := p.peek()
			if err != nil {
				return err
			}
			p.i++
			array := p.isArray(depth)
			switch {
			case c == ',' && array:
			case c == ',':
				if err := p.key(); err != nil {
					return err
				}
			case c == ']' && array, c == '}' && !array:
				depth--
				continue
			default:
				return errSyntax
			}
			break
		}
	}
}

func (p *parser) setArray(depth int, array bool) {
	w, b := depth/64, uint(depth%64)
	if array {
		p.stack[w] |= 1 << b
	} else {
		p.stack[w] &^= 1 << b
	}
}

func (p *parser) isArray(depth int) bool {
	return p.stack[depth/64]&(1<<uint(depth%64)) != 0
}

// key parses an object member's name and the colon after it.
func (p *parser) key() error {
	c, err := p.peek()
	if err != nil {
		return err
	}
	if c != '"' {
		return errSyntax
	}
	if _, err := p.str(); err != nil {
		return err
	}
	return p.expect(':')
}

// str skips the string at p.i (its opening quote), validating its escapes,
// and reports whether it had any.
func (p *parser) str() (escaped bool, err error) {
	d := p.data
	i := p.i + 1
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			p.i = i + 1
			return escaped, nil
		case c < 0x20:
			return false, errSyntax
		case c == '\\':
			escaped = true
			if i+1 >= len(d) {
				return false, errEOF
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(d) {
						return false, errEOF
					}
					if !isHex(d[k]) {
						return false, errSyntax
					}
				}
				i += 6
			default:
				return false, errSyntax
			}
		default:
			i++
		}
	}
	return false, errEOF
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (p *parser) literal(s string) error {
	for k := 0; k < len(s); k++ {
		if p.i+k >= len(p.data) {
			return errEOF
		}
		if p.data[p.i+k] != s[k] {
			return errSyntax
		}
	}
	p.i += len(s)
	return nil
}

// number skips a JSON number. A number that reaches the end of the data
// may go on past it, so it counts as cut.
func (p *parser) number() error {
	d, i := p.data, p.i
	at := func(i int) (byte, bool) {
		if i >= len(d) {
			return 0, false
		}
		return d[i], true
	}
	digits := func() bool { // one or more
		c, ok := at(i)
		if !ok || c < '0' || c > '9' {
			return false
		}
		for ok && '0' <= c && c <= '9' {
			i++
			c, ok = at(i)
		}
		return true
	}
	c, ok := at(i)
	if ok && c == '-' {
		i++
		c, ok = at(i)
	}
	switch {
	case !ok:
		return errEOF
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		digits()
	default:
		return errSyntax
	}
	if c, ok = at(i); ok && c == '.' {
		i++
		if !digits() {
			if i >= len(d) {
				return errEOF
			}
			return errSyntax
		}
	}
	if c, ok = at(i); ok && (c == 'e' || c == 'E') {
		i++
		if c, ok = at(i); ok && (c == '+' || c == '-') {
			i++
		}
		if !digits() {
			if i >= len(d) {
				return errEOF
			}
			return errSyntax
		}
	}
	if i >= len(d) {
		return errEOF
	}
	p.i = i
	return nil
}
