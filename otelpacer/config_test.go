package otelpacer

import (
	"net/url"
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
		"https://user:pw@host/v1/x?a=1&key=s3cr3t&b=2#frag":                       "https://host/v1/x?a=1&key=REDACTED&b=2",
		"https://host/x?API_KEY=s&Api-Key=s&token=s&sig=s&X-Amz-Signature=s&keep": "https://host/x?API_KEY=REDACTED&Api-Key=REDACTED&token=REDACTED&sig=REDACTED&X-Amz-Signature=REDACTED&keep",
		"https://host/x?k%65y=s":                                                  "https://host/x?k%65y=REDACTED",
		"https://host/x?model=a%20b":                                              "https://host/x?model=a%20b",
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
