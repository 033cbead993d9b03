package quota

import (
	"net/http"
	"time"
)

// Defaults applied by [New] to a zero [Config].
const (
	// DefaultMaxQueue is how many requests may wait per key.
	DefaultMaxQueue = 4096
	// DefaultMaxWait is the longest wait for a window to reset that the
	// layer imposes: a request whose budget comes back later than this is
	// sent at once, and the server answers it as it sees fit (usually a 429
	// whose Retry-After the retry layer honours). Per-minute windows reset
	// within a minute.
	DefaultMaxWait = time.Minute
	// DefaultResetMargin is how long after an announced reset the layer
	// takes a window to be full again. Servers round their resets (to the
	// millisecond, to the second) and count by their own clock; a request
	// sent on the very instant may still land in the old window.
	DefaultResetMargin = 20 * time.Millisecond
)

// Config configures a [Quota]. The zero value keys budgets by host and
// model, queues up to [DefaultMaxQueue] requests per key, waits at most
// [DefaultMaxWait] for a window to reset (plus [DefaultResetMargin]), and bounds a wait otherwise only
// by the request's context.
type Config struct {
	// Key maps a request to the key whose budget it spends, given the
	// model its body names ("" when none). Nil means [HostModelKey]. Give
	// the layer the same key as the concurrency gate, so that both speak
	// of the same account limit. The key is reported in [Stats]: return a
	// digest or a name for a secret, never the secret itself.
	Key func(req *http.Request, model string) string

	// MaxQueue is how many requests may wait per key for its window to
	// reset; one more fails at once with [ErrQueueFull]. Zero means
	// [DefaultMaxQueue]; negative means no queue at all (a request that
	// does not fit fails at once).
	MaxQueue int

	// QueueTimeout bounds how long a request waits before it fails with
	// [ErrQueueTimeout]. Zero means no bound other than the request's
	// context and MaxWait.
	QueueTimeout time.Duration

	// MaxWait is the longest reset the layer waits for; see
	// [DefaultMaxWait]. Zero means the default; negative means never wait
	// (the layer then only keeps the budgets, for Stats).
	MaxWait time.Duration

	// ResetMargin is added to every reset a server announces; see
	// [DefaultResetMargin]. Zero means the default; negative means none.
	ResetMargin time.Duration

	// Refunds says the server gives back, when a request ends, the tokens
	// it charged beyond the request's real usage (Anthropic adjusts its
	// output-token estimate so). Then a reservation already answered is
	// settled to the usage its response reports, and what remains grows by
	// the difference. False (OpenAI documents no refund: a request costs
	// what it was charged on arrival) settles only reservations not
	// answered yet, and leaves the rest to the server's next report.
	Refunds bool

	// DefaultMaxTokens is the output-token cost reserved for a request
	// whose body names no max_tokens or max_completion_tokens. Zero
	// reserves none: the prompt's estimate alone, settled to the real
	// usage when the response reports it.
	DefaultMaxTokens int64
}

// HostModelKey is the default key: the request's host, and the model its
// body names after a space when it names one ("api.openai.com gpt-4o").
// OpenAI and Anthropic keep their windows per model.
func HostModelKey(req *http.Request, model string) string {
	if model == "" {
		return req.URL.Host
	}
	return req.URL.Host + " " + model
}
