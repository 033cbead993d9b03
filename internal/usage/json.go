package usage

import "bytes"

// jsonScan extracts, from a JSON document fed to it in pieces, the fields
// [Usage] and [Request] need. It holds no part of the document beyond a
// short value being read (a key, a model name, a number), so its memory is
// constant however long the document is, and it never looks at a byte twice.
//
// Only the first two levels of the document are parsed, three inside a
// top-level "message" or "response" object (where Anthropic's message_start
// and the Responses API's events put the model and usage); anything deeper
// is skipped by counting brackets outside strings. A syntax error stops the
// scan until reset. Results survive reset, so a stream of documents (SSE
// events) leaves the last value seen of each field.
type jsonScan struct {
	st         uint8
	depth      int
	kinds      uint8 // bit d-1 set when the container at depth d (1 to 3) is an object
	field      uint8
	wrapped    bool // the depth-2 container is a top-level "message" or "response" object
	usageDepth int  // depth of the keys of the usage object being read, 0 outside one
	esc        bool
	bufLen     int
	over       bool
	buf        [96]byte

	model        string
	stream       bool
	input        int64
	output       int64
	total        int64
	maxTokens    int64
	maxCompl     int64
	hasModel     bool
	hasStream    bool
	hasInput     bool
	hasOutput    bool
	hasTotal     bool
	hasMaxTokens bool
	hasMaxCompl  bool
}

// Parser states.
const (
	jsValue    uint8 = iota // expecting a value
	jsKeyOrEnd              // in an object, expecting a key or '}'
	jsKey                   // inside a key
	jsColon                 // after a key, expecting ':'
	jsString                // inside a string value
	jsScalar                // inside a number or literal
	jsAfter                 // after a value, expecting ',' or a closing bracket
	jsSkip                  // inside a container deeper than parsed
	jsSkipStr               // inside a string of such a container
	jsDone                  // the document ended
	jsBad                   // a syntax error was met
)

// Fields of interest.
const (
	fNone uint8 = iota
	fModel
	fStream
	fUsage
	fWrap
	fMaxTokens
	fMaxCompl
	fInput
	fOutput
	fTotal
)

// reset prepares the scanner for a new document, keeping the results.
func (s *jsonScan) reset() {
	s.st, s.depth, s.kinds, s.field, s.wrapped, s.usageDepth = jsValue, 0, 0, fNone, false, 0
	s.esc, s.bufLen, s.over = false, 0, false
}

// finished reports whether feeding more bytes can change nothing.
func (s *jsonScan) finished() bool { return s.st == jsDone || s.st == jsBad }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// maxDepth is the deepest container parsed.
func (s *jsonScan) maxDepth() int {
	if s.wrapped {
		return 3
	}
	return 2
}

// inObject reports whether the container at the current depth is an object.
func (s *jsonScan) inObject() bool { return s.depth > 0 && s.kinds&(1<<(s.depth-1)) != 0 }

func (s *jsonScan) keep(c byte) {
	if s.bufLen < len(s.buf) {
		s.buf[s.bufLen] = c
		s.bufLen++
	} else {
		s.over = true
	}
}

func (s *jsonScan) keepAll(p []byte) {
	n := copy(s.buf[s.bufLen:], p)
	s.bufLen += n
	if n < len(p) {
		s.over = true
	}
}

// feed scans p, the next bytes of the document.
func (s *jsonScan) feed(p []byte) {
	for i := 0; i < len(p); {
		c := p[i]
		switch s.st {
		case jsDone, jsBad:
			return
		case jsValue:
			switch {
			case isSpace(c):
			case c == '{':
				s.open(true)
			case c == '[':
				s.open(false)
			case c == ']' && s.depth > 0 && !s.inObject():
				s.close()
			case c == '"':
				s.st, s.bufLen, s.over, s.esc = jsString, 0, false, false
			case c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n':
				s.st, s.bufLen, s.over = jsScalar, 0, false
				continue
			default:
				s.st = jsBad
			}
		case jsKeyOrEnd:
			switch {
			case isSpace(c):
			case c == '"':
				s.st, s.bufLen, s.over, s.esc = jsKey, 0, false, false
			case c == '}':
				s.close()
			default:
				s.st = jsBad
			}
		case jsKey, jsString:
			// Copy the run up to the next quote or backslash at once.
			if s.esc {
				s.esc = false
				switch c {
				case '"', '\\', '/':
					s.keep(c)
				default:
					s.over = true
				}
				break
			}
			j := bytes.IndexAny(p[i:], "\"\\")
			if j < 0 {
				s.keepAll(p[i:])
				return
			}
			s.keepAll(p[i : i+j])
			i += j
			if p[i] == '\\' {
				s.esc = true
				break
			}
			if s.st == jsKey {
				s.endKey()
			} else {
				s.endString()
			}
		case jsColon:
			switch {
			case isSpace(c):
			case c == ':':
				s.st = jsValue
			default:
				s.st = jsBad
			}
		case jsScalar:
			if isSpace(c) || c == ',' || c == '}' || c == ']' {
				s.endScalar()
				continue
			}
			s.keep(c)
		case jsAfter:
			switch {
			case isSpace(c):
			case c == ',':
				if s.inObject() {
					s.st = jsKeyOrEnd
				} else {
					s.st = jsValue
				}
				s.field = fNone
			case c == '}' && s.inObject(), c == ']' && !s.inObject():
				s.close()
			default:
				s.st = jsBad
			}
		case jsSkip:
			j := bytes.IndexAny(p[i:], "\"{}[]")
			if j < 0 {
				return
			}
			i += j
			switch p[i] {
			case '"':
				s.st, s.esc = jsSkipStr, false
			case '{', '[':
				s.depth++
			default:
				s.depth--
				if s.depth == s.maxDepth() {
					s.st, s.field = jsAfter, fNone
				}
			}
		case jsSkipStr:
			if s.esc {
				s.esc = false
				break
			}
			j := bytes.IndexAny(p[i:], "\"\\")
			if j < 0 {
				return
			}
			i += j
			if p[i] == '\\' {
				s.esc = true
			} else {
				s.st = jsSkip
			}
		}
		i++
	}
}

func (s *jsonScan) open(object bool) {
	field := s.field
	s.field = fNone
	s.depth++
	if s.depth == 2 {
		s.wrapped = object && field == fWrap
	}
	if s.depth > s.maxDepth() {
		s.st = jsSkip
		return
	}
	if object && field == fUsage {
		s.usageDepth = s.depth
	}
	bit := uint8(1) << (s.depth - 1)
	if object {
		s.kinds |= bit
		s.st = jsKeyOrEnd
	} else {
		s.kinds &^= bit
		s.st = jsValue
	}
}

func (s *jsonScan) close() {
	s.depth--
	s.field = fNone
	if s.depth < s.usageDepth {
		s.usageDepth = 0
	}
	if s.depth < 2 {
		s.wrapped = false
	}
	if s.depth == 0 {
		s.st = jsDone
		return
	}
	s.st = jsAfter
}

func (s *jsonScan) endKey() {
	s.st = jsColon
	s.field = fNone
	if s.over || !s.inObject() {
		return
	}
	k := s.buf[:s.bufLen]
	switch {
	case s.depth == s.usageDepth:
		switch string(k) {
		case "prompt_tokens", "input_tokens":
			s.field = fInput
		case "completion_tokens", "output_tokens":
			s.field = fOutput
		case "total_tokens":
			s.field = fTotal
		}
	case s.depth == 1:
		switch string(k) {
		case "model":
			s.field = fModel
		case "stream":
			s.field = fStream
		case "usage":
			s.field = fUsage
		case "message", "response":
			s.field = fWrap
		case "max_tokens":
			s.field = fMaxTokens
		case "max_completion_tokens":
			s.field = fMaxCompl
		}
	case s.depth == 2 && s.wrapped:
		switch string(k) {
		case "model":
			s.field = fModel
		case "usage":
			s.field = fUsage
		}
	}
}

func (s *jsonScan) endString() {
	if s.field == fModel && !s.over && s.bufLen > 0 {
		v := s.buf[:s.bufLen]
		if !s.hasModel || s.model != string(v) {
			s.model = string(v)
		}
		s.hasModel = true
	}
	s.afterValue()
}

func (s *jsonScan) endScalar() {
	v := s.buf[:s.bufLen]
	if !s.over {
		switch s.field {
		case fStream:
			switch string(v) {
			case "true":
				s.stream, s.hasStream = true, true
			case "false":
				s.stream, s.hasStream = false, true
			}
		case fInput:
			if n, ok := parseCount(v); ok {
				s.input, s.hasInput = n, true
			}
		case fOutput:
			if n, ok := parseCount(v); ok {
				s.output, s.hasOutput = n, true
			}
		case fTotal:
			if n, ok := parseCount(v); ok {
				s.total, s.hasTotal = n, true
			}
		case fMaxTokens:
			if n, ok := parseCount(v); ok {
				s.maxTokens, s.hasMaxTokens = n, true
			}
		case fMaxCompl:
			if n, ok := parseCount(v); ok {
				s.maxCompl, s.hasMaxCompl = n, true
			}
		}
	}
	s.afterValue()
}

func (s *jsonScan) afterValue() {
	s.field = fNone
	if s.depth == 0 {
		s.st = jsDone
		return
	}
	s.st = jsAfter
}

// parseCount parses a non-negative decimal integer of at most 18 digits.
func parseCount(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func (s *jsonScan) usage() Usage {
	u := Usage{
		Input: s.input, HasInput: s.hasInput,
		Output: s.output, HasOutput: s.hasOutput,
		Total: s.total, HasTotal: s.hasTotal,
	}
	if s.hasModel {
		u.Model = s.model
	}
	if !u.HasTotal && u.HasInput && u.HasOutput {
		u.Total, u.HasTotal = u.Input+u.Output, true
	}
	return u
}

func (s *jsonScan) request() Request {
	r := Request{Stream: s.stream, HasStream: s.hasStream}
	if s.hasModel {
		r.Model = s.model
	}
	switch {
	case s.hasMaxTokens:
		r.MaxTokens, r.HasMaxTokens = s.maxTokens, true
	case s.hasMaxCompl:
		r.MaxTokens, r.HasMaxTokens = s.maxCompl, true
	}
	return r
}
