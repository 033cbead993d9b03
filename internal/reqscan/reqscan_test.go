package reqscan_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pacerhttp/pacer/internal/reqscan"
)

// reference decodes data with encoding/json: what Scan must report for a
// body that fits in its limit.
func reference(data []byte) (reqscan.Fields, bool) {
	if i := bytes.IndexFunc(data, func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }); i < 0 || data[i] != '{' {
		return reqscan.Fields{}, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return reqscan.Fields{}, false
	}
	str := func(k string) string {
		var s string
		if raw := m[k]; len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	num := func(k string) int64 {
		var n int64
		if raw := m[k]; len(raw) > 0 && string(raw) != "null" && json.Unmarshal(raw, &n) == nil {
			return n
		}
		return 0
	}
	return reqscan.Fields{
		Model: str("model"), User: str("user"), UserID: str("user_id"),
		MaxTokens: num("max_tokens"), MaxCompletionTokens: num("max_completion_tokens"),
		Length: int64(len(data)),
	}, true
}

func request(t testing.TB, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://api.example.com/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestScan(t *testing.T) {
	cases := []struct {
		name, body string
		want       reqscan.Fields
		ok         bool
	}{
		{"chat", `{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"hi","model":"nested"}],"max_tokens":512,"user":"u1"}`,
			reqscan.Fields{Model: "deepseek-v4-flash", MaxTokens: 512, User: "u1"}, true},
		{"escapes", `{"model":"gpt-\u0034o\n","user_id":"a\"b","mod\u0065l2":1}`,
			reqscan.Fields{Model: "gpt-4o\n", UserID: `a"b`}, true},
		{"escaped key", `{"mod\u0065l":"m"}`, reqscan.Fields{Model: "m"}, true},
		{"last wins", `{"model":"a","model":"b"}`, reqscan.Fields{Model: "b"}, true},
		{"last is no string", `{"model":"a","model":null}`, reqscan.Fields{}, true},
		{"wrong types", `{"model":5,"max_tokens":"5","max_completion_tokens":1.5}`, reqscan.Fields{}, true},
		{"int64 bounds", `{"max_tokens":-9223372036854775808,"max_completion_tokens":9223372036854775808}`,
			reqscan.Fields{MaxTokens: -1 << 63}, true},
		{"whitespace", " \n{ \"model\" : \"m\" , \"max_completion_tokens\" : 7 }\r\n", reqscan.Fields{Model: "m", MaxCompletionTokens: 7}, true},
		{"empty object", `{}`, reqscan.Fields{}, true},
		{"array", `[{"model":"m"}]`, reqscan.Fields{}, false},
		{"trailing garbage", `{"model":"m"}x`, reqscan.Fields{}, false},
		{"trailing comma", `{"model":"m",}`, reqscan.Fields{}, false},
		{"cut", `{"model":"m"`, reqscan.Fields{}, false},
		{"bad nested", `{"model":"m","messages":[1,]}`, reqscan.Fields{}, false},
		{"control char", "{\"model\":\"a\x01\"}", reqscan.Fields{}, false},
		{"multipart", "--boundary\r\nContent-Disposition: form-data", reqscan.Fields{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := reqscan.Scan(request(t, c.body))
			if c.ok {
				c.want.Length = int64(len(c.body))
			}
			if ok != c.ok || got != c.want {
				t.Errorf("Scan = %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
			if ref, rok := reference([]byte(c.body)); ref != got || rok != ok {
				t.Errorf("encoding/json says %+v, %v", ref, rok)
			}
		})
	}
}

// TestScanLeavesBody: the request's own body is neither read nor closed.
func TestScanLeavesBody(t *testing.T) {
	req := request(t, `{"model":"m"}`)
	body := &countingBody{Reader: strings.NewReader(`{"model":"m"}`)}
	req.Body = body
	if f, ok := reqscan.Scan(req); !ok || f.Model != "m" {
		t.Fatalf("Scan = %+v, %v", f, ok)
	}
	if body.reads != 0 || body.closes != 0 {
		t.Fatalf("the request's body was read %d times, closed %d times", body.reads, body.closes)
	}
}

func TestScanWithoutGetBody(t *testing.T) {
	req := request(t, `{"model":"m"}`)
	req.GetBody = nil
	if _, ok := reqscan.Scan(req); ok {
		t.Fatal("scanned a request without GetBody")
	}
	req = request(t, "")
	if _, ok := reqscan.Scan(req); ok {
		t.Fatal("scanned an empty body")
	}
}

// TestScanClosesCopy: what GetBody returned is closed, and read no further
// than the limit.
func TestScanClosesCopy(t *testing.T) {
	big := `{"messages":"` + strings.Repeat("x", 2*reqscan.Limit) + `","model":"late"}`
	var copies []*countingBody
	req := request(t, big)
	req.GetBody = func() (io.ReadCloser, error) {
		c := &countingBody{Reader: strings.NewReader(big)}
		copies = append(copies, c)
		return c, nil
	}
	f, ok := reqscan.Scan(req)
	want := reqscan.Fields{Length: int64(len(big)), Truncated: true}
	if !ok || f != want {
		t.Fatalf("Scan = %+v, %v; want %+v", f, ok, want)
	}
	if len(copies) != 1 || copies[0].closes != 1 || copies[0].read > reqscan.Limit {
		t.Fatalf("copies %d, closed %d, read %d bytes", len(copies), copies[0].closes, copies[0].read)
	}
}

// TestScanUnknownLength: a body of unknown length that ends within the
// limit is complete; one that fills it is truncated.
func TestScanUnknownLength(t *testing.T) {
	for _, n := range []int{100, reqscan.Limit, reqscan.Limit + 1} {
		body := `{"model":"m","pad":"` + strings.Repeat("x", n-len(`{"model":"m","pad":""}`)) + `"}`
		req := request(t, body)
		req.ContentLength = -1
		f, ok := reqscan.Scan(req)
		wantTrunc := n >= reqscan.Limit
		if !ok || f.Model != "m" || f.Truncated != wantTrunc || f.Length != int64(min(n, reqscan.Limit)) {
			t.Errorf("n=%d: Scan = %+v, %v", n, f, ok)
		}
	}
}

func TestScanDepth(t *testing.T) {
	for _, depth := range []int{9999, 10000} { // nested levels below the top-level object
		body := `{"a":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `,"model":"m"}`
		_, ok := reqscan.Scan(request(t, body))
		if _, rok := reference([]byte(body)); ok != rok {
			t.Errorf("depth %d: Scan ok=%v, encoding/json ok=%v", depth, ok, rok)
		}
	}
}

func TestScanAllocs(t *testing.T) {
	body := `{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"hello"}],"max_tokens":64}`
	data := []byte(body)
	req := request(t, body)
	req.GetBody = func() (io.ReadCloser, error) { return nopReader{bytes.NewReader(data)}, nil }
	var model string
	allocs := testing.AllocsPerRun(100, func() {
		f, _ := reqscan.Scan(req)
		model = f.Model
	})
	// GetBody's reader escapes to the heap; Scan adds only the model string.
	if allocs > 3 || model != "deepseek-v4-flash" {
		t.Fatalf("%v allocations per Scan, model %q", allocs, model)
	}
}

func BenchmarkScan(b *testing.B) {
	body := `{"model":"deepseek-v4-flash","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"` +
		strings.Repeat("lorem ipsum ", 300) + `"}],"max_tokens":512,"stream":true}`
	req := request(b, body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		reqscan.Scan(req)
	}
}

type countingBody struct {
	io.Reader
	reads, read, closes int
}

func (c *countingBody) Read(p []byte) (int, error) {
	c.reads++
	n, err := c.Reader.Read(p)
	c.read += n
	return n, err
}

func (c *countingBody) Close() error { c.closes++; return nil }

type nopReader struct{ io.Reader }

func (nopReader) Close() error { return nil }

// FuzzScan compares Scan with encoding/json on whole bodies, and checks
// that a prefix never yields a field the whole body does not have.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{"model":"deepseek-v4-pro","user_id":"42","max_tokens":100}`,
		`{"messages":[{"content":"a\u00e9\ud83d\ude00","model":"x"}],"model":"m","max_completion_tokens":-0}`,
		`{"model":"\ud800","user":"\xff"}`,
		`{"max_tokens":1e3,"model":null,"user":true}`,
		` {"a":{"b":[1,2.5e-3,"c",{}]},"model":"m"} `,
		`[1,2]`, `{"model":"m"`, `null`,
	} {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		got, ok := reqscan.ScanBytes(data, true)
		want, wok := reference(data)
		want.Length = 0
		if ok != wok || got != want {
			t.Fatalf("Scan(%q) = %+v, %v; encoding/json %+v, %v", data, got, ok, want, wok)
		}
		// A prefix: whatever it reports, a valid whole body agrees with
		// (last occurrence aside, which only the whole body can show).
		k := int(cut) % (len(data) + 1)
		pre, pok := reqscan.ScanBytes(data[:k], false)
		if wok && !pok {
			t.Fatalf("prefix %q of a valid body rejected", data[:k])
		}
		if !pok && pre != (reqscan.Fields{}) {
			t.Fatalf("rejected prefix reported %+v", pre)
		}
		if wok && once(data) {
			if diff := cmp.Diff(sub(want, pre), pre); diff != "" {
				t.Fatalf("prefix %q reported a field the body lacks (-want +got):\n%s", data[:k], diff)
			}
		}
		// Names reads less but, on a valid body that names each field once,
		// finds what Scan finds.
		for _, users := range []bool{false, true} {
			names, nok := reqscan.Names(request(t, string(data)), users)
			if wok && !nok {
				t.Fatalf("Names(%q, %v) rejected a valid body", data, users)
			}
			if !nok && names != (reqscan.Fields{}) {
				t.Fatalf("Names(%q, %v) rejected the body but reported %+v", data, users, names)
			}
			if wok && once(data) {
				w := reqscan.Fields{Model: want.Model, User: want.User, UserID: want.UserID}
				if diff := cmp.Diff(sub(w, names), names); diff != "" {
					t.Fatalf("Names(%q, %v) reported a field the body lacks (-want +got):\n%s", data, users, diff)
				}
				if names.Model != w.Model || (users && names.UserID != w.UserID) {
					t.Fatalf("Names(%q, %v) = %+v, want %+v", data, users, names, w)
				}
			}
		}
	})
}

// TestNames checks where Names stops: at the first model, or once it has
// the model and the user_id; and that it reads past its first read when it
// must.
func TestNames(t *testing.T) {
	pad := `"messages":[{"role":"user","content":"` + strings.Repeat("x", 5000) + `"}]`
	for _, c := range []struct {
		name  string
		body  string
		users bool
		want  reqscan.Fields
		ok    bool
	}{
		{"model first, bad tail", `{"model":"m","user":"u",]`, false, reqscan.Fields{Model: "m"}, true},
		{"user before model", `{"user":"u","model":"m"`, false, reqscan.Fields{Model: "m", User: "u"}, true},
		{"users: stops at user_id", `{"model":"m","user_id":"id", oops`, true, reqscan.Fields{Model: "m", UserID: "id"}, true},
		{"users: reads on for user_id", `{"model":"m","user":"u", oops`, true, reqscan.Fields{}, false},
		{"users: no user_id, valid", `{"model":"m","user":"u"}`, true, reqscan.Fields{Model: "m", User: "u"}, true},
		{"first model wins", `{"model":"a","model":"b"}`, false, reqscan.Fields{Model: "a"}, true},
		{"model not a string", `{"model":5,"model":"b"}`, false, reqscan.Fields{}, true},
		{"model past the first read", `{` + pad + `,"model":"late"}`, false, reqscan.Fields{Model: "late"}, true},
		{"bad before the model", `{"a":tru,"model":"m"}`, false, reqscan.Fields{}, false},
		{"not an object", `["model"]`, false, reqscan.Fields{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := reqscan.Names(request(t, c.body), c.users)
			if ok != c.ok || got != c.want {
				t.Fatalf("Names = %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

// TestNamesReadsOnlyWhatItNeeds checks that Names stops reading a long
// body once it has the model, and that Scan reads to its limit.
func TestNamesReadsOnlyWhatItNeeds(t *testing.T) {
	body := `{"model":"m","messages":[{"content":"` + strings.Repeat("x", 3*reqscan.Limit) + `"}]}`
	var read countingReader
	req, err := http.NewRequest(http.MethodPost, "https://api.example.com/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.GetBody = func() (io.ReadCloser, error) {
		read.r = strings.NewReader(body)
		return io.NopCloser(&read), nil
	}
	if f, ok := reqscan.Names(req, false); !ok || f.Model != "m" {
		t.Fatalf("Names = %+v, %v", f, ok)
	}
	if read.n > 4<<10 {
		t.Errorf("Names read %d bytes to find a model in the first 12", read.n)
	}
	read.n = 0
	if f, ok := reqscan.Scan(req); !ok || f.Model != "m" || !f.Truncated {
		t.Fatalf("Scan = %+v, %v", f, ok)
	}
	if read.n != reqscan.Limit {
		t.Errorf("Scan read %d bytes, want its limit %d", read.n, reqscan.Limit)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// once reports whether no field key occurs twice in data (cheaply, by text).
func once(data []byte) bool {
	for _, k := range []string{`"model"`, `"user"`, `"user_id"`, `"max_tokens"`, `"max_completion_tokens"`} {
		if bytes.Count(data, []byte(k)) > 1 || bytes.Contains(data, []byte(`\u`)) {
			return false
		}
	}
	return true
}

// sub keeps the fields of full that pre reports.
func sub(full, pre reqscan.Fields) reqscan.Fields {
	var s reqscan.Fields
	if pre.Model != "" {
		s.Model = full.Model
	}
	if pre.User != "" {
		s.User = full.User
	}
	if pre.UserID != "" {
		s.UserID = full.UserID
	}
	if pre.MaxTokens != 0 {
		s.MaxTokens = full.MaxTokens
	}
	if pre.MaxCompletionTokens != 0 {
		s.MaxCompletionTokens = full.MaxCompletionTokens
	}
	return s
}
