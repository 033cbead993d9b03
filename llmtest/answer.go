package llmtest

import (
	"encoding/json"
	"strconv"
	"strings"
)

// answerChunks returns the n content pieces of every answer: the words of
// "Hello from the fake API of llmtest", then " more" for each further
// piece, the last one ending in ".".
func answerChunks(n int) []string {
	answerWords := [...]string{"Hello", " from", " the", " fake", " API", " of", " llmtest"}
	c := make([]string, n)
	for i := range c {
		if i < len(answerWords) {
			c[i] = answerWords[i]
		} else {
			c[i] = " more"
		}
	}
	c[n-1] += "."
	return c
}

// chatRequest is the part of a chat completion request the server reads.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// promptTokens counts whitespace-separated words in the message contents,
// given as a string or as an array of text parts.
func (r *chatRequest) promptTokens() int {
	n := 0
	for _, m := range r.Messages {
		c := m.Content
		if len(c) == 0 {
			continue
		}
		switch c[0] {
		case '"':
			var s string
			if json.Unmarshal(c, &s) == nil {
				n += len(strings.Fields(s))
			}
		case '[':
			var parts []struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(c, &parts) == nil {
				for _, p := range parts {
					n += len(strings.Fields(p.Text))
				}
			}
		}
	}
	return n
}

// answer holds what every piece of one response shares.
type answer struct {
	id      string
	model   []byte // JSON string, quoted
	created int64
	prompt  int
	chunks  []string
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

func (a *answer) appendHead(b []byte, object string) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, a.id...)
	b = append(b, `","object":"`...)
	b = append(b, object...)
	b = append(b, `","created":`...)
	b = strconv.AppendInt(b, a.created, 10)
	b = append(b, `,"model":`...)
	b = append(b, a.model...)
	return b
}

func (a *answer) appendUsage(b []byte) []byte {
	c := len(a.chunks)
	b = append(b, `"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(a.prompt), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(c), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(a.prompt+c), 10)
	return append(b, '}')
}

// appendCompletion appends a whole chat.completion object.
func (a *answer) appendCompletion(b []byte) []byte {
	b = a.appendHead(b, "chat.completion")
	b = append(b, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	var content strings.Builder
	for _, c := range a.chunks {
		content.WriteString(c)
	}
	b = appendJSONString(b, content.String())
	b = append(b, `},"logprobs":null,"finish_reason":"stop"}],`...)
	b = a.appendUsage(b)
	return append(b, "}\n"...)
}

// appendChunk appends the SSE event for content piece i.
func (a *answer) appendChunk(b []byte, i int) []byte {
	b = append(b, "data: "...)
	b = a.appendHead(b, "chat.completion.chunk")
	b = append(b, `,"choices":[{"index":0,"delta":{`...)
	if i == 0 {
		b = append(b, `"role":"assistant",`...)
	}
	b = append(b, `"content":`...)
	b = appendJSONString(b, a.chunks[i])
	return append(b, "},\"logprobs\":null,\"finish_reason\":null}]}\n\n"...)
}

// appendFinish appends the event with finish_reason, the usage event when
// asked for, and the [DONE] marker.
func (a *answer) appendFinish(b []byte, usage bool) []byte {
	b = append(b, "data: "...)
	b = a.appendHead(b, "chat.completion.chunk")
	b = append(b, `,"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`+"\n\n"...)
	if usage {
		b = append(b, "data: "...)
		b = a.appendHead(b, "chat.completion.chunk")
		b = append(b, `,"choices":[],`...)
		b = a.appendUsage(b)
		b = append(b, "}\n\n"...)
	}
	return append(b, "data: [DONE]\n\n"...)
}
