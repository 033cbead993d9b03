package concurrency

import "net/http"

// Config configures a [Gate] and the in-process [Limiter] it uses by
// default. The zero value is an adaptive gate keyed by host and model
// ([ModelKey]) with the default [Limits]: it starts at
// [DefaultInitialLimit], stays within [DefaultMinLimit] and
// [DefaultMaxLimit], queues up to [DefaultMaxQueue] requests per key, and
// bounds a wait only by the request's context.
type Config struct {
	// Key maps a request to the key whose limit it counts against. Nil
	// means [ModelKey]: the host and the model the JSON body names.
	// [HostKey] keys by host alone, [UserKey] adds the end user; key by API
	// key, for example, when several accounts share a host. It must be
	// cheap and must not read req.Body (a copy from req.GetBody may be
	// read). The key is reported in Stats, in the request's
	// [transport.Facts] and so in telemetry: return a digest or a name for a
	// secret, never the secret itself.
	Key func(*http.Request) string

	// Limits bounds the limit of each key: fixed or adaptive, the queue
	// and the wait. The in-process limiter applies its defaults with
	// [Limits.WithDefaults].
	Limits

	// Limiter, when set, replaces the in-process limiter: admission, the
	// queue and the limit state are its business (a limit shared by many
	// processes, for example), and Limits is ignored. The gate does not
	// close it.
	Limiter Limiter

	// OnLimit, when set, is called with the key and the new limit each time
	// an adaptive limit changes, from the goroutine that released the
	// permit that changed it, outside any lock. It must not block.
	OnLimit func(key string, limit int)
}
