// Package reqkey names what a request is sent to: the host, and the model
// and end user its JSON body names. The layers key their state by these.
package reqkey

import (
	"net/http"

	"github.com/pacerhttp/pacer/internal/intern"
	"github.com/pacerhttp/pacer/internal/reqscan"
)

// MaxName is the longest model or user name a key includes: a longer one
// is no name an API gives, and is left out rather than kept as a key.
const MaxName = 256

// Host is the request's host: req.URL.Host, or req.Host when the URL has
// none.
func Host(req *http.Request) string {
	if req.URL != nil && req.URL.Host != "" {
		return req.URL.Host
	}
	return req.Host
}

// Model is Host, followed by a space and the top-level "model" of the
// request's JSON body when it names one ([reqscan.Names], which stops
// reading at the model): the key of one model's limit on one host.
func Model(req *http.Request) string {
	f, _ := reqscan.Names(req, false)
	return join(Host(req), f.Model, "")
}

// User is Model, followed by " user " and the body's "user_id" (DeepSeek's
// per-user identifier), or its "user" (OpenAI's) when it has no user_id:
// the key of one end user's limit on one model. Without either it is
// Model.
func User(req *http.Request) string {
	f, _ := reqscan.Names(req, true)
	user := f.UserID
	if user == "" {
		user = f.User
	}
	return join(Host(req), f.Model, user)
}

// keys keeps the keys Model and User return, so that a request to a host
// and model seen before builds its key without allocating.
var keys intern.Table

func join(host, model, user string) string {
	var buf [128]byte
	k := append(buf[:0], host...)
	if model != "" && len(model) <= MaxName {
		k = append(append(k, ' '), model...)
	}
	if user != "" && len(user) <= MaxName {
		k = append(append(k, " user "...), user...)
	}
	if len(k) == len(host) {
		return host
	}
	return keys.Bytes(k)
}
