package breaker

import (
	"bytes"
	"encoding/json"
	"io"
)

// rewriteModel returns body with the value of each top-level "model" member
// replaced by model, every other byte kept as it was. changed reports
// whether a member was rewritten. A body that is not one JSON object, or
// has no top-level "model", comes back unchanged.
func rewriteModel(body []byte, model string) (out []byte, changed bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return body, false
	}
	type span struct{ start, end int64 }
	var spans []span
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return body, false
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return body, false
		}
		if key == "model" {
			end := dec.InputOffset()
			spans = append(spans, span{end - int64(len(raw)), end})
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return body, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return body, false
	}
	if len(spans) == 0 {
		return body, false
	}
	value, err := json.Marshal(model)
	if err != nil {
		return body, false
	}
	out = make([]byte, 0, len(body)+len(spans)*len(value))
	var last int64
	for _, s := range spans {
		out = append(out, body[last:s.start]...)
		out = append(out, value...)
		last = s.end
	}
	return append(out, body[last:]...), true
}
