package concurrency

import (
	"net/http"

	"github.com/pacerhttp/pacer/internal/reqkey"
)

// HostKey keys a request by its host (req.URL.Host, or req.Host): one
// limit for every model of an API.
func HostKey(req *http.Request) string { return reqkey.Host(req) }

// ModelKey, the default key, is the request's host followed by a space and
// the top-level "model" of its JSON body, as "api.deepseek.com
// deepseek-v4-pro": providers such as DeepSeek limit each model on its own.
// A request without a JSON body that names a model (a GET, a multipart
// upload) keys by its host alone.
//
// The body is read from a copy made by req.GetBody (which
// [http.NewRequest] sets for in-memory bodies, and the retry layer for the
// bodies it buffers), and only its first 64 KiB; the request's own Body is
// never read. A request without GetBody keys by host. Reading stops at
// the model (the first "model", should the body name two), so an SDK that
// writes the model first pays the same for a long conversation as for a
// short one, and what follows is not checked: a body that is no valid JSON
// is the server's to refuse.
func ModelKey(req *http.Request) string { return reqkey.Model(req) }

// UserKey is [ModelKey] followed by " user " and the body's "user_id"
// (DeepSeek's per-user identifier, on accounts whose limits apply per
// user) or, without one, its "user" (OpenAI's end-user identifier). Use it
// only when the users are few or the gate is short-lived: the gate keeps
// every key's state.
func UserKey(req *http.Request) string { return reqkey.User(req) }
