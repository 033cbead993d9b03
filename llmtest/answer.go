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
	Stream              bool  `json:"stream"`
	MaxTokens           int64 `json:"max_tokens"`
	MaxCompletionTokens int64 `json:"max_completion_tokens"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// maxTokens is the most output tokens the request asks for.
func (r *chatRequest) maxTokens() int64 { return max(r.MaxTokens, r.MaxCompletionTokens) }

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
	anthropic bool // the Messages API's forms
	id        string
	model     []byte // JSON string, quoted
	created   int64
	prompt    int
	chunks    []string
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

// appendCompletion appends a whole chat.completion object (or message).
func (a *answer) appendCompletion(b []byte) []byte {
	if a.anthropic {
		b = a.appendMessageHead(b, a.content(), "\"end_turn\"", len(a.chunks))
		return append(b, "}\n"...)
	}
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
	if a.anthropic {
		if i == 0 {
			b = append(b, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":"...)
			b = a.appendMessageHead(b, "", "null", 1)
			b = append(b, "}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"...)
			b = append(b, "event: ping\ndata: {\"type\": \"ping\"}\n\n"...)
		}
		b = append(b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"...)
		b = appendJSONString(b, a.chunks[i])
		return append(b, "}}\n\n"...)
	}
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
	if a.anthropic {
		b = append(b, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"...)
		b = append(b, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":"...)
		b = strconv.AppendInt(b, int64(len(a.chunks)), 10)
		return append(b, "}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
	}
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

// content is the whole answer's text.
func (a *answer) content() string {
	var content strings.Builder
	for _, c := range a.chunks {
		content.WriteString(c)
	}
	return content.String()
}

// appendMessageHead appends a Messages API "message" object without its
// closing brace: text as its one text block (none when empty), stopReason
// as JSON, and usage with output tokens.
func (a *answer) appendMessageHead(b []byte, text, stopReason string, output int) []byte {
	b = append(b, `{"id":"msg_`...)
	b = append(b, strings.TrimPrefix(a.id, "chatcmpl-")...)
	b = append(b, `","type":"message","role":"assistant","model":`...)
	b = append(b, a.model...)
	b = append(b, `,"content":[`...)
	if text != "" {
		b = append(b, `{"type":"text","text":`...)
		b = appendJSONString(b, text)
		b = append(b, '}')
	}
	b = append(b, `],"stop_reason":`...)
	b = append(b, stopReason...)
	b = append(b, `,"stop_sequence":null,"usage":{"input_tokens":`...)
	b = strconv.AppendInt(b, int64(a.prompt), 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, int64(output), 10)
	return append(b, '}')
}
