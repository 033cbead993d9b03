package reqkey_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/internal/reqkey"
)

func TestKeys(t *testing.T) {
	long := strings.Repeat("m", reqkey.MaxName+1)
	for _, c := range []struct {
		name, body  string
		noGetBody   bool
		host        string
		model, user string
	}{
		{name: "no body", host: "api.test", model: "api.test", user: "api.test"},
		{name: "empty object", body: `{}`, host: "api.test", model: "api.test", user: "api.test"},
		{name: "model", body: `{"messages":[],"model":"deepseek-v4-pro"}`,
			host: "api.test", model: "api.test deepseek-v4-pro", user: "api.test deepseek-v4-pro"},
		{name: "user_id wins", body: `{"model":"m","user":"u","user_id":"id"}`,
			host: "api.test", model: "api.test m", user: "api.test m user id"},
		{name: "user", body: `{"user":"u","model":"m"}`,
			host: "api.test", model: "api.test m", user: "api.test m user u"},
		{name: "user alone", body: `{"user":"u"}`,
			host: "api.test", model: "api.test", user: "api.test user u"},
		{name: "not a string", body: `{"model":5}`, host: "api.test", model: "api.test", user: "api.test"},
		{name: "not JSON", body: `model=m`, host: "api.test", model: "api.test", user: "api.test"},
		// The model key reads no further than the model; the user key reads
		// on for a user_id, and finds the body is not JSON.
		{name: "invalid after the model", body: `{"model":"m",`, host: "api.test", model: "api.test m", user: "api.test"},
		{name: "invalid before the model", body: `{"x":01,"model":"m"}`, host: "api.test", model: "api.test", user: "api.test"},
		{name: "too long", body: `{"model":"` + long + `","user":"u"}`,
			host: "api.test", model: "api.test", user: "api.test user u"},
		{name: "escaped", body: `{"model":"a\u0062c"}`, host: "api.test", model: "api.test abc", user: "api.test abc"},
		{name: "no GetBody", body: `{"model":"m"}`, noGetBody: true,
			host: "api.test", model: "api.test", user: "api.test"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var req *http.Request
			if c.body == "" {
				req, _ = http.NewRequest(http.MethodGet, "http://api.test/v1/models", nil)
			} else {
				req, _ = http.NewRequest(http.MethodPost, "http://api.test/v1/chat/completions", strings.NewReader(c.body))
			}
			if c.noGetBody {
				req.GetBody = nil
			}
			for _, k := range []struct {
				name      string
				got, want string
			}{
				{"Host", reqkey.Host(req), c.host},
				{"Model", reqkey.Model(req), c.model},
				{"User", reqkey.User(req), c.user},
			} {
				if k.got != k.want {
					t.Errorf("%s = %q, want %q", k.name, k.got, k.want)
				}
			}
		})
	}
}

func TestHostWithoutURLHost(t *testing.T) {
	req := &http.Request{Host: "api.test", URL: nil}
	if got := reqkey.Host(req); got != "api.test" {
		t.Errorf("Host = %q, want api.test", got)
	}
}

// TestModelLeavesBody checks that keying a request reads none of the body
// it will send.
func TestModelLeavesBody(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://api.test/", strings.NewReader(`{"model":"m"}`))
	if got := reqkey.Model(req); got != "api.test m" {
		t.Fatalf("Model = %q", got)
	}
	b, err := io.ReadAll(req.Body)
	if err != nil || string(b) != `{"model":"m"}` {
		t.Errorf("body after keying: %q, %v", b, err)
	}
}

// FuzzUser checks that a key never panics, always starts with the host,
// and is the same for the same body.
func FuzzUser(f *testing.F) {
	for _, s := range []string{`{}`, `{"model":"m","user_id":"u"}`, `{"model":"a b","user":"c"}`, `[`, `{"model":"\ud800"}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, _ := http.NewRequest(http.MethodPost, "http://api.test/", strings.NewReader(body))
		k := reqkey.User(req)
		if !strings.HasPrefix(k, "api.test") {
			t.Fatalf("key %q does not start with the host", k)
		}
		if len(k) > len("api.test")+2*reqkey.MaxName+len("  user ") {
			t.Fatalf("key of %d bytes", len(k))
		}
		if k2 := reqkey.User(req); k2 != k {
			t.Fatalf("key %q then %q", k, k2)
		}
		if m := reqkey.Model(req); !strings.HasPrefix(k, m) {
			t.Fatalf("user key %q does not extend model key %q", k, m)
		}
	})
}

// TestRepeatKeyAllocatesNothing checks that the key of a request to a host
// and model seen before costs no allocation beyond the request's GetBody.
func TestRepeatKeyAllocatesNothing(t *testing.T) {
	body := `{"model":"deepseek-v4-pro","messages":[{"role":"user","content":"Hi."}],"user_id":"u-17"}`
	req, err := http.NewRequest(http.MethodPost, "http://api.test/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	getBody := testing.AllocsPerRun(50, func() {
		rc, _ := req.GetBody()
		rc.Close()
	})
	for _, k := range []struct {
		name string
		key  func(*http.Request) string
		want string
	}{
		{"Model", reqkey.Model, "api.test deepseek-v4-pro"},
		{"User", reqkey.User, "api.test deepseek-v4-pro user u-17"},
	} {
		if got := k.key(req); got != k.want {
			t.Fatalf("%s = %q, want %q", k.name, got, k.want)
		}
		if allocs := testing.AllocsPerRun(50, func() { k.key(req) }); allocs > getBody {
			t.Errorf("%s allocates %v per call, GetBody alone %v", k.name, allocs, getBody)
		}
	}
}
