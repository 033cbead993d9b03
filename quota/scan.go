package quota

import (
	"net/http"

	"github.com/pacerhttp/pacer/internal/reqscan"
)

// reqInfo is what a request body says about its cost.
type reqInfo struct {
	model     string
	maxTokens int64 // max_tokens, else max_completion_tokens; zero when absent
	size      int64 // the body's length in bytes, as far as known
}

// scanRequest reads the model and the output-token bound of req's JSON
// body from a copy made by GetBody ([reqscan.Scan]). Without GetBody it
// reads nothing, and knows the size only from ContentLength.
func scanRequest(req *http.Request) reqInfo {
	ri := reqInfo{size: max(req.ContentLength, 0)}
	f, ok := reqscan.Scan(req)
	if !ok {
		return ri
	}
	ri.model, ri.maxTokens, ri.size = f.Model, f.MaxTokens, max(f.Length, ri.size)
	if ri.maxTokens <= 0 {
		ri.maxTokens = max(f.MaxCompletionTokens, 0)
	}
	return ri
}
