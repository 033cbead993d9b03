package llmtest

import "time"

// Phase is one step of the account limit schedule.
type Phase struct {
	// Limit is the number of requests admitted concurrently during the
	// phase; 0 means unlimited.
	Limit int
	// Duration is how long the phase lasts. A schedule whose phases all have
	// a zero Duration keeps the first phase's Limit forever.
	Duration time.Duration
}

// Punishment lowers the limit of an account that keeps hitting it: more
// than Threshold 429s within Window multiply the current limit by Factor
// (rounded down, at least 1) for Duration after the last such 429. Further
// 429s while punished extend the punishment; they do not compound it.
//
// The zero value (Duration 0) disables punishment. With Duration set, a zero
// Window means one second and a zero Factor means 0.5. Every 429 the server
// sends counts, scripted ones included. An unlimited phase stays unlimited.
type Punishment struct {
	Threshold int
	Window    time.Duration
	Factor    float64
	Duration  time.Duration
}

// RetryAfterMode selects the header a 429 or 503 answer carries.
type RetryAfterMode int

const (
	// RetryAfterNone sends no header, as DeepSeek documents (the default).
	RetryAfterNone RetryAfterMode = iota
	// RetryAfterSeconds sends "Retry-After: <delta-seconds>", rounded up.
	RetryAfterSeconds
	// RetryAfterHTTPDate sends "Retry-After: <IMF-fixdate>".
	RetryAfterHTTPDate
	// RetryAfterMillis sends "retry-after-ms: <milliseconds>", as OpenAI does.
	RetryAfterMillis
)

// ModelLimit is the limit of one model in [Config.Models]: a schedule of
// phases as [Config.Phases] (empty means unlimited), or a random walk,
// which replaces the phases when its Start is set.
type ModelLimit struct {
	Phases []Phase
	Walk   Walk
}

// Window is a span of time, as offsets from the server's start. When the
// limit schedule has phases, windows repeat with the phase cycle and their
// offsets are taken within the cycle.
type Window struct {
	Start, Duration time.Duration
	// Share (0..1) is the share of requests an overload window answers
	// with 503, chosen by the seeded generator; zero means all of them.
	Share float64
}

// Wait makes a share of admitted requests wait to be scheduled before
// inference starts. While waiting, the server has already sent status 200
// and sends a blank line (JSON) or ": keep-alive" comment (SSE) every
// Interval. A waiting request counts as in flight.
type Wait struct {
	// Share (0..1) of admitted requests that wait, chosen by the seeded
	// generator.
	Share float64
	// Duration of the wait. Zero disables random waits; scripted waits
	// then last 50ms.
	Duration time.Duration
	// Interval between keep-alives; zero means 10ms.
	Interval time.Duration
	// Max, when positive and smaller than Duration, is when the server gives
	// up and closes the connection without answering (a scaled stand-in for
	// DeepSeek's ten minutes).
	Max time.Duration
}

// Faults injects transport-level failures into shares (0..1) of admitted
// requests, chosen by the seeded generator. The shares are exclusive: one
// draw decides at most one fault per request.
type Faults struct {
	// ResetBeforeHeaders resets the TCP connection before any response byte.
	ResetBeforeHeaders float64
	// CutMidBody sends status 200 and part of the body, then closes the
	// connection.
	CutMidBody float64
	// SlowHeaders delays the response headers by SlowHeadersDelay, then
	// answers normally.
	SlowHeaders float64
	// SlowHeadersDelay defaults to one second.
	SlowHeadersDelay time.Duration
	// StallAfter is how many chunks a stream sends before it stalls in the
	// StallMidBody behaviour; zero means 1.
	StallAfter int
}

// Config configures a [Server]. The zero value is an unlimited, always
// successful API with 20ms answers of 4 chunks.
type Config struct {
	// Phases is the schedule of the account limit, repeating; empty means
	// unlimited.
	Phases []Phase
	// Walk, when its Start is set, makes the account limit follow a seeded
	// random walk instead of Phases.
	Walk Walk
	// Models gives models limits of their own, each with its own
	// requests in flight and punishment: a request whose JSON "model" is a
	// key of the map is admitted under that model's limit, any other
	// request under the account limit (Phases or Walk).
	Models map[string]ModelLimit
	// ServiceTime is the time from admission (after any scheduling wait) to
	// the last byte of the answer; zero means 20ms, negative means none.
	ServiceTime time.Duration
	// AnswerTime, when its Median is set, draws each answer's service time
	// from a log-normal distribution instead of using ServiceTime.
	AnswerTime AnswerTime
	// FirstChunkShare is the share (0..1) of an answer's service time
	// before a stream's first content chunk: the time to first token. The
	// other chunks follow evenly over the rest, the last one at the end of
	// the service time, as real servers stream. Zero means 0.03; a
	// negative value means none (the first chunk at once).
	FirstChunkShare float64
	// StreamChunks is the number of content pieces of an answer (chunks of a
	// streamed answer); zero means 4.
	StreamChunks int
	// Punishment for bursts of 429s; the zero value means none.
	Punishment Punishment
	// RetryAfter selects the header sent on 429 and 503.
	RetryAfter RetryAfterMode
	// RetryAfterDelay is the delay the header announces; zero means 1s.
	RetryAfterDelay time.Duration
	// Overload lists windows during which chat requests get 503.
	Overload []Window
	// Provider is whose API the server speaks; the zero value is DeepSeek.
	Provider Provider
	// Windows limits the account by requests and tokens per window; the
	// zero value means no windows.
	Windows Windows
	// QuotaExhaustedKey, when set, makes a request with that key get the
	// answer of an account out of credit: OpenAI's 429 with
	// insufficient_quota (DeepSeek and OpenAI personalities), or
	// Anthropic's 400 about the credit balance.
	QuotaExhaustedKey string
	// PaymentRequiredKey, when set, makes a request with
	// "Authorization: Bearer <PaymentRequiredKey>" get 402.
	PaymentRequiredKey string
	// APIKey, when set, makes a request with any other bearer token (or
	// none) get 401.
	APIKey string
	// Wait configures scheduling waits.
	Wait Wait
	// Faults configures fault injection.
	Faults Faults
	// OneWayDelay is the network delay on each way of every request; the
	// zero value means none.
	OneWayDelay Delay
	// RecordRequests keeps every request (method, path, header, body) for
	// [Server.Requests]. Headers are kept as sent, Authorization included.
	RecordRequests bool
	// Seed seeds the generator that picks waits and faults.
	Seed int64
}

const (
	defaultServiceTime      = 20 * time.Millisecond
	defaultStreamChunks     = 4
	defaultFirstChunkShare  = 0.03
	defaultRetryAfterDelay  = time.Second
	defaultInterval         = 10 * time.Millisecond
	defaultScriptedWait     = 50 * time.Millisecond
	defaultSlowHeadersDelay = time.Second
	defaultPunishWindow     = time.Second
	defaultPunishFactor     = 0.5
)

// withDefaults returns cfg with zero fields replaced by their defaults.
func (cfg Config) withDefaults() Config {
	switch {
	case cfg.ServiceTime == 0:
		cfg.ServiceTime = defaultServiceTime
	case cfg.ServiceTime < 0:
		cfg.ServiceTime = 0
	}
	switch {
	case cfg.FirstChunkShare == 0:
		cfg.FirstChunkShare = defaultFirstChunkShare
	case cfg.FirstChunkShare < 0:
		cfg.FirstChunkShare = 0
	case cfg.FirstChunkShare > 1:
		cfg.FirstChunkShare = 1
	}
	if cfg.StreamChunks <= 0 {
		cfg.StreamChunks = defaultStreamChunks
	}
	if cfg.RetryAfterDelay <= 0 {
		cfg.RetryAfterDelay = defaultRetryAfterDelay
	}
	if cfg.Windows.Period <= 0 {
		cfg.Windows.Period = time.Minute
	}
	if cfg.Wait.Interval <= 0 {
		cfg.Wait.Interval = defaultInterval
	}
	if cfg.Faults.SlowHeadersDelay <= 0 {
		cfg.Faults.SlowHeadersDelay = defaultSlowHeadersDelay
	}
	if cfg.Punishment.Window <= 0 {
		cfg.Punishment.Window = defaultPunishWindow
	}
	if cfg.Punishment.Factor <= 0 {
		cfg.Punishment.Factor = defaultPunishFactor
	}
	if cfg.Punishment.Threshold < 0 {
		cfg.Punishment.Threshold = 0
	}
	cfg.Phases = append([]Phase(nil), cfg.Phases...)
	if cfg.Models != nil {
		m := make(map[string]ModelLimit, len(cfg.Models))
		for k, v := range cfg.Models {
			v.Phases = append([]Phase(nil), v.Phases...)
			m[k] = v
		}
		cfg.Models = m
	}
	cfg.Overload = append([]Window(nil), cfg.Overload...)
	return cfg
}
