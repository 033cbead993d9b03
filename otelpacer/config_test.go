package otelpacer

import (
	"net/url"
	"strings"
	"testing"
)

func TestProviderName(t *testing.T) {
	for host, want := range map[string]string{
		"api.deepseek.com":                  "deepseek",
		"API.DeepSeek.com:443":              "deepseek",
		"api.openai.com":                    "openai",
		"api.anthropic.com":                 "anthropic",
		"my-res.openai.azure.com":           "azure.ai.openai",
		"api.x.ai":                          "x_ai",
		"generativelanguage.googleapis.com": "gcp.gemini",
		"api.together.xyz":                  "together",
		"openrouter.ai":                     "openrouter",
		"llm.example.co.uk":                 "example",
		"api.abc.com":                       "abc",
		"127.0.0.1:8080":                    "openai-compatible",
		"[::1]:8080":                        "openai-compatible",
		"localhost:11434":                   "openai-compatible",
		"ollama":                            "openai-compatible",
		"":                                  "openai-compatible",
	} {
		if got := ProviderName(host); got != want {
			t.Errorf("ProviderName(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestFullURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.deepseek.com/chat/completions":                               "https://api.deepseek.com/chat/completions",
		"https://user:pw@host/v1/x?a=1&key=s3cr3t&b=2#frag":                       "https://host/v1/x?a=REDACTED&key=REDACTED&b=REDACTED",
		"https://host/x?API_KEY=s&Api-Key=s&token=s&sig=s&X-Amz-Signature=s&keep": "https://host/x?API_KEY=REDACTED&Api-Key=REDACTED&token=REDACTED&sig=REDACTED&X-Amz-Signature=REDACTED&keep",
		"https://host/x?k%65y=s":                                                  "https://host/x?k%65y=REDACTED",
		"https://host/x?model=a%20b":                                              "https://host/x?model=REDACTED",
		// Names no denylist would know, and a value after ";".
		"https://host/x?x-goog-api-key=s&subscription-key=s&auth_token=s&jwt=s": "https://host/x?x-goog-api-key=REDACTED&subscription-key=REDACTED&auth_token=REDACTED&jwt=REDACTED",
		"https://host/x?alt=sse;key=s&x=1":                                      "https://host/x?alt=sse;key=REDACTED&x=REDACTED",
		// The harmless names keep their values.
		"https://host/openai/deployments/d/chat/completions?api-version=2024-10-21": "https://host/openai/deployments/d/chat/completions?api-version=2024-10-21",
		"https://host/v1/files?limit=20&after=file-1&order=desc&Beta=true":          "https://host/v1/files?limit=20&after=file-1&order=desc&Beta=true",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := fullURL(u); got != want {
			t.Errorf("fullURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRedactQuery checks that redactQuery keeps the parts of a query and
// their names, and leaves no value but those of harmless parameters.
func FuzzRedactQuery(f *testing.F) {
	for _, s := range []string{"a=1&key=s", "alt=sse;key=s", "k%65y=s&api-version=1", "=x&&;", "%zz=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		out := redactQuery(q)
		split := func(s string) []string {
			return strings.FieldsFunc(s, func(r rune) bool { return r == '&' || r == ';' })
		}
		in, got := split(q), split(out)
		if len(in) != len(got) {
			t.Fatalf("redactQuery(%q) = %q: %d parts, want %d", q, out, len(got), len(in))
		}
		for i, part := range got {
			name, value, hasValue := strings.Cut(part, "=")
			inName, _, _ := strings.Cut(in[i], "=")
			if name != inName {
				t.Fatalf("redactQuery(%q) = %q: part %d named %q, want %q", q, out, i, name, inName)
			}
			dec, err := url.QueryUnescape(name)
			if err != nil {
				dec = name
			}
			if hasValue && !harmlessParam(dec) && value != redacted {
				t.Fatalf("redactQuery(%q) = %q: %q keeps its value", q, out, name)
			}
		}
	})
}
