package keepalive_test

import (
	"bytes"
	"strings"
)

// sseEvent is one thing a conforming event-stream parser reports: a
// dispatched event, or a change of the reconnection time ("retry" field).
type sseEvent struct {
	Type, Data, ID string
	Retry          string // set only for a reconnection-time record
}

// sseResult is everything a parser learns from a stream: the events in
// order, and the last event ID buffer at the end.
type sseResult struct {
	Events []sseEvent
	LastID string
}

// parseSSE is a reference parser written from the WHATWG HTML "Server-sent
// events" section, "Interpreting an event stream": one leading BOM is
// ignored; CRLF, LF and CR end lines; a blank line dispatches; a line
// starting with ':' is ignored; "field: value" with one optional space after
// the colon; a line without colon is a field with an empty value; an
// incomplete last line and an undispatched last event are discarded.
func parseSSE(stream []byte) sseResult {
	stream = bytes.TrimPrefix(stream, []byte("\xEF\xBB\xBF"))
	var (
		res             sseResult
		data, eventType strings.Builder
		lastID          string
	)
	for len(stream) > 0 {
		// Find the end of the line.
		end := -1
		termLen := 0
		for i, c := range stream {
			if c == '\n' {
				end, termLen = i, 1
				break
			}
			if c == '\r' {
				end, termLen = i, 1
				if i+1 < len(stream) && stream[i+1] == '\n' {
					termLen = 2
				}
				break
			}
		}
		if end < 0 {
			break // incomplete line at end of stream: discarded
		}
		line := string(stream[:end])
		stream = stream[end+termLen:]

		switch {
		case line == "":
			if data.Len() == 0 {
				data.Reset()
				eventType.Reset()
				continue
			}
			d := strings.TrimSuffix(data.String(), "\n")
			typ := eventType.String()
			if typ == "" {
				typ = "message"
			}
			res.Events = append(res.Events, sseEvent{Type: typ, Data: d, ID: lastID})
			data.Reset()
			eventType.Reset()
		case line[0] == ':':
			// comment
		default:
			field, value := line, ""
			if i := strings.IndexByte(line, ':'); i >= 0 {
				field, value = line[:i], line[i+1:]
				value = strings.TrimPrefix(value, " ")
			}
			switch field {
			case "event":
				eventType.Reset()
				eventType.WriteString(value)
			case "data":
				data.WriteString(value)
				data.WriteByte('\n')
			case "id":
				if !strings.Contains(value, "\x00") {
					lastID = value
				}
			case "retry":
				if value != "" && strings.Trim(value, "0123456789") == "" {
					res.Events = append(res.Events, sseEvent{Retry: value})
				}
			}
		}
	}
	res.LastID = lastID
	return res
}
