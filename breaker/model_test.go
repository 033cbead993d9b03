package breaker

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRewriteModel(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		changed        bool
	}{
		{"plain", `{"model":"deepseek-chat","messages":[]}`, `{"model":"gpt-4o-mini","messages":[]}`, true},
		{"spacing kept", "{ \"messages\" : [ {\"role\":\"user\"} ] ,\n  \"model\" :\t\"deepseek-chat\" }", "{ \"messages\" : [ {\"role\":\"user\"} ] ,\n  \"model\" :\t\"gpt-4o-mini\" }", true},
		{"escaped value", `{"model":"a\"b\u00e9","n":1}`, `{"model":"gpt-4o-mini","n":1}`, true},
		{"non-string value", `{"model":null}`, `{"model":"gpt-4o-mini"}`, true},
		{"nested model untouched", `{"x":{"model":"keep"},"model":"m"}`, `{"x":{"model":"keep"},"model":"gpt-4o-mini"}`, true},
		{"duplicates all rewritten", `{"model":"a","model":"b"}`, `{"model":"gpt-4o-mini","model":"gpt-4o-mini"}`, true},
		{"no model", `{"messages":[]}`, `{"messages":[]}`, false},
		{"not an object", `["model"]`, `["model"]`, false},
		{"malformed", `{"model":"a"`, `{"model":"a"`, false},
		{"trailing garbage", `{"model":"a"} x`, `{"model":"a"} x`, false},
		{"two values", `{"model":"a"}{"model":"b"}`, `{"model":"a"}{"model":"b"}`, false},
		{"empty", ``, ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := rewriteModel([]byte(tc.in), "gpt-4o-mini")
			if string(got) != tc.want || changed != tc.changed {
				t.Fatalf("rewriteModel(%q) = %q, %v; want %q, %v", tc.in, got, changed, tc.want, tc.changed)
			}
		})
	}
}

// FuzzRewriteModel checks that a rewrite changes the top-level "model" and
// nothing else: decoded, the result equals the input with model replaced.
func FuzzRewriteModel(f *testing.F) {
	for _, s := range []string{
		`{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}],"stream":true}`,
		`{"model":"a\"b","x":{"model":"n"}}`,
		`{ "model" : 1 , "model":"b" }`,
		`{"messages":[],"model":"m"}   `,
		`[]`, `{}`, `"model"`, `{"model":"\ud800"}`,
	} {
		f.Add([]byte(s), "gpt-4o-mini")
	}
	f.Fuzz(func(t *testing.T, in []byte, model string) {
		orig := bytes.Clone(in)
		out, changed := rewriteModel(in, model)
		if !bytes.Equal(in, orig) {
			t.Fatal("input modified")
		}
		if !changed {
			if !bytes.Equal(out, in) {
				t.Fatalf("unchanged result differs: %q -> %q", in, out)
			}
			var obj map[string]json.RawMessage
			if json.Unmarshal(in, &obj) == nil {
				if _, ok := obj["model"]; ok {
					t.Fatalf("valid object %q with a model was not rewritten", in)
				}
			}
			return
		}
		var before, after map[string]any
		if err := json.Unmarshal(in, &before); err != nil {
			// encoding/json's decoder and Unmarshal differ on some invalid
			// inputs (for example invalid UTF-8 is accepted by both); only
			// inputs Unmarshal accepts are compared.
			return
		}
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("rewrite of valid %q is invalid: %q: %v", in, out, err)
		}
		var wantModel any
		_ = json.Unmarshal(mustMarshal(t, model), &wantModel)
		before["model"] = wantModel
		if diff := cmp.Diff(before, after); diff != "" {
			t.Fatalf("rewrite of %q changed more than the model (-want +got):\n%s", in, diff)
		}
	})
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
