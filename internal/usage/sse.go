package usage

import "bytes"

// sseScan feeds the data of each event of a text/event-stream to a
// [jsonScan], one JSON document per event, following the SSE line rules:
// lines end with CRLF, LF or CR; a blank line ends an event; "data:" lines
// carry the data (one leading space dropped, lines joined by LF); comment
// lines (": keep-alive") and other fields ("event:", "id:") are ignored.
// Memory is constant.
type sseScan struct {
	js      jsonScan
	pos     int   // bytes seen on the current line, up to len("data:")+1
	mode    uint8 // what the rest of the current line is
	lastCR  bool
	hasData bool // the current event has had a data line
}

const (
	sseField uint8 = iota // matching the line's start against "data:"
	sseData               // inside a data value
	sseSkip               // a line that is not data
)

const dataPrefix = "data:"

var newline = []byte{'\n'}

func (s *sseScan) feed(p []byte) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\n' && s.lastCR {
			s.lastCR = false
			continue
		}
		s.lastCR = c == '\r'
		if c == '\r' || c == '\n' {
			s.endLine()
			continue
		}
		switch s.mode {
		case sseField:
			if s.pos < len(dataPrefix) && c == dataPrefix[s.pos] {
				s.pos++
				if s.pos == len(dataPrefix) {
					s.mode = sseData
					if s.hasData {
						s.js.feed(newline)
					}
					s.hasData = true
					if i+1 < len(p) && p[i+1] == ' ' {
						i++
					} else if i+1 == len(p) {
						s.pos++ // a space may still come at the start of the next piece
					}
				}
				continue
			}
			s.mode = sseSkip
			s.pos++
		case sseData:
			if s.pos == len(dataPrefix)+1 {
				s.pos++
				if c == ' ' {
					continue
				}
			}
			j := bytes.IndexAny(p[i:], "\r\n")
			if j < 0 {
				s.js.feed(p[i:])
				return
			}
			s.js.feed(p[i : i+j])
			i += j - 1
		case sseSkip:
			j := bytes.IndexAny(p[i:], "\r\n")
			if j < 0 {
				return
			}
			i += j - 1
		}
	}
}

func (s *sseScan) endLine() {
	if s.pos == 0 {
		// A blank line dispatches the event.
		if s.hasData {
			s.js.reset()
		}
		s.hasData = false
	}
	s.pos, s.mode = 0, sseField
}
