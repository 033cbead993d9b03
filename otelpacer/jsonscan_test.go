package otelpacer

import (
	"bytes"
	"strings"
	"testing"
)

type scanWant struct {
	model             string
	stream, hasStream bool
	prompt, compl     int64
	hasUsage          bool
}

func jsonResult(s *jsonScan) scanWant {
	return scanWant{
		model: s.model, stream: s.stream, hasStream: s.hasStream,
		prompt: s.prompt, compl: s.completion, hasUsage: s.hasPrompt && s.hasCompletion,
	}
}

var jsonCases = []struct {
	name string
	doc  string
	want scanWant
}{
	{"request", `{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}],"stream":true}`,
		scanWant{model: "deepseek-chat", stream: true, hasStream: true}},
	{"stream false", `{"stream" : false , "model" : "m"}`, scanWant{model: "m", hasStream: true}},
	{"response", "\n\n\n" + `{"id":"x","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"a \"usage\":{\"prompt_tokens\":999} b"}}],` +
		`"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46,"prompt_tokens_details":{"cached_tokens":0}}}`,
		scanWant{model: "deepseek-chat", prompt: 12, compl: 34, hasUsage: true}},
	{"nested model ignored", `{"choices":[{"model":"inner"}],"meta":{"model":"inner2","usage":{"prompt_tokens":5}},"model":"outer"}`,
		scanWant{model: "outer"}},
	{"usage null", `{"model":"m","usage":null}`, scanWant{model: "m"}},
	{"usage before model", `{"usage":{"completion_tokens":2,"prompt_tokens":1},"model":"m"}`,
		scanWant{model: "m", prompt: 1, compl: 2, hasUsage: true}},
	{"escaped model", `{"model":"a\/b\"c"}`, scanWant{model: `a/b"c`}},
	{"unicode escape skipped", `{"model":"a\u0041"}`, scanWant{}},
	{"deep nesting", `{"x":[[[[{"model":"no","a":"]}\""}]]]],"model":"yes"}`, scanWant{model: "yes"}},
	{"array root", `[{"model":"no"}]`, scanWant{}},
	{"empty containers", `{"a":{},"b":[],"c":[1,2,{}],"model":"m"}`, scanWant{model: "m"}},
	{"bad syntax", `{"model" "m"}`, scanWant{}},
	{"negative tokens", `{"usage":{"prompt_tokens":-1,"completion_tokens":1.5}}`, scanWant{}},
}

func TestJSONScanSplits(t *testing.T) {
	for _, tc := range jsonCases {
		t.Run(tc.name, func(t *testing.T) {
			doc := []byte(tc.doc)
			for cut := 0; cut <= len(doc); cut++ {
				var s jsonScan
				s.feed(doc[:cut])
				s.feed(doc[cut:])
				if got := jsonResult(&s); got != tc.want {
					t.Fatalf("cut at %d: got %+v, want %+v", cut, got, tc.want)
				}
			}
			var s jsonScan
			for i := range doc {
				s.feed(doc[i : i+1])
			}
			if got := jsonResult(&s); got != tc.want {
				t.Fatalf("byte by byte: got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A body far larger than any buffer the scanner has: memory stays constant
// and the usage at the end is found.
func TestJSONScanLargeBody(t *testing.T) {
	content := strings.Repeat(`lorem \"usage\" {[ ipsum `, 200_000) // ~5 MB
	doc := `{"model":"big","choices":[{"message":{"content":"` + content + `"}}],"usage":{"prompt_tokens":7,"completion_tokens":8}}`
	var s jsonScan
	r := strings.NewReader(doc)
	buf := make([]byte, 1500)
	for {
		n, err := r.Read(buf)
		s.feed(buf[:n])
		if err != nil {
			break
		}
	}
	want := scanWant{model: "big", prompt: 7, compl: 8, hasUsage: true}
	if got := jsonResult(&s); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

const sseStream = ": keep-alive\n\n: keep-alive\r\n\r\n" +
	"data: {\"model\":\"deepseek-chat\",\"choices\":[{\"delta\":{\"content\":\"he\"}}],\"usage\":null}\n\n" +
	"event: message\r\ndata:{\"model\":\"deepseek-chat\",\"choices\":[{\"delta\":{\"content\":\"llo\"}}],\"usage\":null}\r\n\r\n" +
	"data: {\"model\":\"deepseek-chat\",\"choices\":[],\n" +
	"data: \"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\r\r" +
	": keep-alive\n\n" +
	"data: [DONE]\n\n"

func TestSSEScanSplits(t *testing.T) {
	want := scanWant{model: "deepseek-chat", prompt: 3, compl: 4, hasUsage: true}
	doc := []byte(sseStream)
	for cut := 0; cut <= len(doc); cut++ {
		var s sseScan
		s.feed(doc[:cut])
		s.feed(doc[cut:])
		if got := jsonResult(&s.js); got != want {
			t.Fatalf("cut at %d: got %+v, want %+v", cut, got, want)
		}
	}
	var s sseScan
	for i := range doc {
		s.feed(doc[i : i+1])
	}
	if got := jsonResult(&s.js); got != want {
		t.Fatalf("byte by byte: got %+v, want %+v", got, want)
	}
}

func TestSSEScanLargeStream(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < 20000; i++ {
		b.WriteString(": keep-alive\n\n")
		b.WriteString(`data: {"model":"m","choices":[{"delta":{"content":"` + strings.Repeat("x", 200) + `"}}]}` + "\n\n")
	}
	b.WriteString(`data: {"model":"m2","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20000}}` + "\n\ndata: [DONE]\n\n")
	var s sseScan
	buf := make([]byte, 777)
	for {
		n, err := b.Read(buf)
		s.feed(buf[:n])
		if err != nil {
			break
		}
	}
	want := scanWant{model: "m2", prompt: 100, compl: 20000, hasUsage: true}
	if got := jsonResult(&s.js); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// FuzzScan checks that the scanners never panic and that their results do
// not depend on how the input is split into reads.
func FuzzScan(f *testing.F) {
	for _, tc := range jsonCases {
		f.Add([]byte(tc.doc), uint16(3))
	}
	f.Add([]byte(sseStream), uint16(17))
	f.Fuzz(func(t *testing.T, doc []byte, cut uint16) {
		c := int(cut)
		if c > len(doc) {
			c = len(doc)
		}
		var whole, split jsonScan
		whole.feed(doc)
		split.feed(doc[:c])
		split.feed(doc[c:])
		if a, b := jsonResult(&whole), jsonResult(&split); a != b {
			t.Fatalf("json: whole %+v, split at %d %+v", a, c, b)
		}
		var sw, ss sseScan
		sw.feed(doc)
		ss.feed(doc[:c])
		ss.feed(doc[c:])
		if a, b := jsonResult(&sw.js), jsonResult(&ss.js); a != b {
			t.Fatalf("sse: whole %+v, split at %d %+v", a, c, b)
		}
	})
}
