package usage

import (
	"bytes"
	"strings"
	"testing"
)

// scanned is everything a scan found, response and request fields alike.
type scanned struct {
	Usage
	Request
}

func scanJSON(pieces ...[]byte) scanned {
	var s Scanner
	for _, p := range pieces {
		s.Feed(p)
	}
	return scanned{s.Usage(), s.Request()}
}

func scanSSE(pieces ...[]byte) scanned {
	var s Scanner
	s.Reset(true)
	for _, p := range pieces {
		s.Feed(p)
	}
	return scanned{s.Usage(), s.Request()}
}

func u(model string, in, out, total int64) Usage {
	return Usage{Model: model, Input: in, HasInput: true, Output: out, HasOutput: true, Total: total, HasTotal: true}
}

var jsonCases = []struct {
	name string
	doc  string
	want scanned
}{
	{"request", `{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":64}`,
		scanned{Usage{Model: "deepseek-chat"}, Request{Model: "deepseek-chat", Stream: true, HasStream: true, MaxTokens: 64, HasMaxTokens: true}}},
	{"max_completion_tokens", `{"model":"m","max_completion_tokens":9}`,
		scanned{Usage{Model: "m"}, Request{Model: "m", MaxTokens: 9, HasMaxTokens: true}}},
	{"max_tokens wins", `{"max_completion_tokens":9,"max_tokens":8}`,
		scanned{Request: Request{MaxTokens: 8, HasMaxTokens: true}}},
	{"stream false", `{"stream" : false , "model" : "m"}`,
		scanned{Usage{Model: "m"}, Request{Model: "m", HasStream: true}}},
	{"response", "\n\n\n" + `{"id":"x","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"a \"usage\":{\"prompt_tokens\":999} b"}}],` +
		`"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46,"prompt_tokens_details":{"cached_tokens":0}}}`,
		scanned{u("deepseek-chat", 12, 34, 46), Request{Model: "deepseek-chat"}}},
	{"total differs from sum", `{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":10}}`,
		scanned{Usage: u("", 1, 2, 10)}},
	{"total alone", `{"usage":{"total_tokens":10}}`, scanned{Usage: Usage{Total: 10, HasTotal: true}}},
	{"anthropic message", `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"hi"}],` +
		`"stop_reason":"end_turn","usage":{"input_tokens":10,"cache_read_input_tokens":3,"output_tokens":5}}`,
		scanned{u("claude-x", 10, 5, 15), Request{Model: "claude-x"}}},
	{"anthropic message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],` +
		`"model":"claude-x","stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1}}}`,
		scanned{u("claude-x", 25, 1, 26), Request{Model: "claude-x"}}},
	{"responses completed", `{"type":"response.completed","response":{"id":"r","output":[{"type":"message","content":[{"text":"x"}]}],` +
		`"model":"gpt-x","usage":{"input_tokens":7,"output_tokens":3,"total_tokens":10,"output_tokens_details":{"reasoning_tokens":0}}}}`,
		scanned{u("gpt-x", 7, 3, 10), Request{Model: "gpt-x"}}},
	{"wrapper is not a request", `{"message":{"stream":true,"max_tokens":3,"message":{"model":"deep"}}}`, scanned{}},
	{"nested model ignored", `{"choices":[{"model":"inner"}],"meta":{"model":"inner2","usage":{"prompt_tokens":5}},"model":"outer"}`,
		scanned{Usage{Model: "outer"}, Request{Model: "outer"}}},
	{"usage in a wrapper's child ignored", `{"message":{"content":[{"usage":{"input_tokens":5}}],"meta":{"usage":{"input_tokens":6}}}}`, scanned{}},
	{"usage null", `{"model":"m","usage":null}`, scanned{Usage{Model: "m"}, Request{Model: "m"}}},
	{"usage array", `{"usage":[1,{"prompt_tokens":1}]}`, scanned{}},
	{"usage before model", `{"usage":{"completion_tokens":2,"prompt_tokens":1},"model":"m"}`,
		scanned{u("m", 1, 2, 3), Request{Model: "m"}}},
	{"escaped model", `{"model":"a\/b\"c"}`, scanned{Usage{Model: `a/b"c`}, Request{Model: `a/b"c`}}},
	{"unicode escape skipped", `{"model":"a\u0041"}`, scanned{}},
	{"deep nesting", `{"x":[[[[{"model":"no","a":"]}\""}]]]],"model":"yes"}`, scanned{Usage{Model: "yes"}, Request{Model: "yes"}}},
	{"array root", `[{"model":"no"}]`, scanned{}},
	{"empty containers", `{"a":{},"b":[],"c":[1,2,{}],"model":"m"}`, scanned{Usage{Model: "m"}, Request{Model: "m"}}},
	{"bad syntax", `{"model" "m"}`, scanned{}},
	{"negative tokens", `{"usage":{"prompt_tokens":-1,"completion_tokens":1.5}}`, scanned{}},
	{"huge count", `{"usage":{"prompt_tokens":1234567890123456789}}`, scanned{}},
}

func TestJSONSplits(t *testing.T) {
	for _, tc := range jsonCases {
		t.Run(tc.name, func(t *testing.T) {
			doc := []byte(tc.doc)
			for cut := 0; cut <= len(doc); cut++ {
				if got := scanJSON(doc[:cut], doc[cut:]); got != tc.want {
					t.Fatalf("cut at %d: got %+v, want %+v", cut, got, tc.want)
				}
			}
			pieces := make([][]byte, len(doc))
			for i := range doc {
				pieces[i] = doc[i : i+1]
			}
			if got := scanJSON(pieces...); got != tc.want {
				t.Fatalf("byte by byte: got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A body far larger than any buffer the scanner has: memory stays constant
// and the usage at the end is found.
func TestJSONLargeBody(t *testing.T) {
	content := strings.Repeat(`lorem \"usage\" {[ ipsum `, 200_000) // ~5 MB
	doc := `{"model":"big","choices":[{"message":{"content":"` + content + `"}}],"usage":{"prompt_tokens":7,"completion_tokens":8}}`
	var s Scanner
	r := strings.NewReader(doc)
	buf := make([]byte, 1500)
	for {
		n, err := r.Read(buf)
		s.Feed(buf[:n])
		if err != nil {
			break
		}
	}
	if got, want := s.Usage(), u("big", 7, 8, 15); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if !s.Done() {
		t.Fatal("Done is false after the document ended")
	}
}

const openAIStream = ": keep-alive\n\n: keep-alive\r\n\r\n" +
	"data: {\"model\":\"deepseek-chat\",\"choices\":[{\"delta\":{\"content\":\"he\"}}],\"usage\":null}\n\n" +
	"event: message\r\ndata:{\"model\":\"deepseek-chat\",\"choices\":[{\"delta\":{\"content\":\"llo\"}}],\"usage\":null}\r\n\r\n" +
	"data: {\"model\":\"deepseek-chat\",\"choices\":[],\n" +
	"data: \"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7}}\r\r" +
	": keep-alive\n\n" +
	"data: [DONE]\n\n"

// anthropicStream follows the Messages streaming format: message_start
// carries the input tokens, each message_delta the output tokens so far.
const anthropicStream = "event: message_start\n" +
	`data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-x","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"output_tokens":1}}}` + "\n\n" +
	"event: content_block_start\n" +
	`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` + "\n\n" +
	"event: ping\n" + `data: {"type": "ping"}` + "\n\n" +
	"event: content_block_delta\n" +
	`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello \"usage\":{\"output_tokens\":99}"}}` + "\n\n" +
	"event: content_block_stop\n" + `data: {"type":"content_block_stop","index":0}` + "\n\n" +
	"event: message_delta\n" +
	`data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}` + "\n\n" +
	"event: message_stop\n" + `data: {"type":"message_stop"}` + "\n\n"

func TestSSESplits(t *testing.T) {
	for _, tc := range []struct {
		name, stream string
		want         Usage
	}{
		{"openai", openAIStream, u("deepseek-chat", 3, 4, 7)},
		{"anthropic", anthropicStream, u("claude-x", 25, 15, 40)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := []byte(tc.stream)
			for cut := 0; cut <= len(doc); cut++ {
				if got := scanSSE(doc[:cut], doc[cut:]).Usage; got != tc.want {
					t.Fatalf("cut at %d: got %+v, want %+v", cut, got, tc.want)
				}
			}
			pieces := make([][]byte, len(doc))
			for i := range doc {
				pieces[i] = doc[i : i+1]
			}
			if got := scanSSE(pieces...).Usage; got != tc.want {
				t.Fatalf("byte by byte: got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A stream cut before its usage chunk reports what it had: the input tokens
// of message_start and the first output count.
func TestSSEPartial(t *testing.T) {
	i := strings.Index(anthropicStream, "event: message_delta")
	got := scanSSE([]byte(anthropicStream[:i])).Usage
	if want := u("claude-x", 25, 1, 26); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	var s Scanner
	s.Reset(true)
	s.Feed([]byte(openAIStream))
	if s.Done() {
		t.Fatal("Done is true for an event stream")
	}
	s.Reset(false)
	if got := s.Usage(); got.Reported() || got.Model != "" {
		t.Fatalf("after Reset: %+v", got)
	}
}

func TestSSELargeStream(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < 20000; i++ {
		b.WriteString(": keep-alive\n\n")
		b.WriteString(`data: {"model":"m","choices":[{"delta":{"content":"` + strings.Repeat("x", 200) + `"}}]}` + "\n\n")
	}
	b.WriteString(`data: {"model":"m2","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20000}}` + "\n\ndata: [DONE]\n\n")
	var s Scanner
	s.Reset(true)
	buf := make([]byte, 777)
	for {
		n, err := b.Read(buf)
		s.Feed(buf[:n])
		if err != nil {
			break
		}
	}
	if got, want := s.Usage(), u("m2", 100, 20000, 20100); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// FuzzScan checks that the scanner never panics and that its results do not
// depend on how the input is split into pieces.
func FuzzScan(f *testing.F) {
	for _, tc := range jsonCases {
		f.Add([]byte(tc.doc), uint16(3))
	}
	f.Add([]byte(openAIStream), uint16(17))
	f.Add([]byte(anthropicStream), uint16(101))
	f.Fuzz(func(t *testing.T, doc []byte, cut uint16) {
		c := min(int(cut), len(doc))
		if a, b := scanJSON(doc), scanJSON(doc[:c], doc[c:]); a != b {
			t.Fatalf("json: whole %+v, split at %d %+v", a, c, b)
		}
		a, b := scanSSE(doc), scanSSE(doc[:c], doc[c:])
		if a != b {
			t.Fatalf("sse: whole %+v, split at %d %+v", a, c, b)
		}
		if a.HasTotal && a.Total < 0 || a.Input < 0 || a.Output < 0 {
			t.Fatalf("negative count: %+v", a)
		}
	})
}
