package llmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

const maxRequestBody = 8 << 20

func (s *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := s.roundTrip(); d > 0 {
		sl := sleeper{ctx: r.Context(), done: s.done}
		ok := sl.sleep(d)
		sl.stop()
		if !ok {
			return
		}
	}
	switch r.URL.Path {
	case s.chatPath():
		s.nRequests.Add(1)
		s.chat(w, r)
	case "/v1/models":
		s.models(w, r)
	default:
		s.record(r, nil)
		s.writeError(w, http.StatusNotFound, body404)
	}
}

func (s *Handler) record(r *http.Request, body []byte) {
	if !s.cfg.RecordRequests {
		return
	}
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
}

// authorize answers 402 or 401 per Config and reports whether the request
// may go on.
func (s *Handler) authorize(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.PaymentRequiredKey == "" && s.cfg.APIKey == "" && s.cfg.QuotaExhaustedKey == "" {
		return true
	}
	key := s.requestKey(r)
	if s.cfg.QuotaExhaustedKey != "" && key == s.cfg.QuotaExhaustedKey {
		s.nQuota.Add(1)
		if s.cfg.Provider == Anthropic {
			s.writeError(w, http.StatusBadRequest, anthropicCredit)
		} else {
			s.writeError(w, http.StatusTooManyRequests, bodyQuota)
		}
		return false
	}
	if s.cfg.PaymentRequiredKey != "" && key == s.cfg.PaymentRequiredKey {
		s.nPayment.Add(1)
		s.writeError(w, http.StatusPaymentRequired, body402)
		return false
	}
	if s.cfg.APIKey != "" && key != s.cfg.APIKey {
		s.nUnauthorized.Add(1)
		s.writeError(w, http.StatusUnauthorized, body401)
		return false
	}
	return true
}

func (s *Handler) models(w http.ResponseWriter, r *http.Request) {
	s.record(r, nil)
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		s.writeError(w, http.StatusMethodNotAllowed, body405)
		return
	}
	if !s.authorize(w, r) {
		return
	}
	created := strconv.FormatInt(s.created, 10)
	body := `{"object":"list","data":[` +
		`{"id":"deepseek-chat","object":"model","created":` + created + `,"owned_by":"llmtest"},` +
		`{"id":"deepseek-reasoner","object":"model","created":` + created + `,"owned_by":"llmtest"}]}`
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	io.WriteString(w, body)
}

func (s *Handler) chat(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	s.record(r, body)
	if r.Method != http.MethodPost {
		s.nBadRequest.Add(1)
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(w, http.StatusMethodNotAllowed, body405)
		return
	}
	if !s.authorize(w, r) {
		return
	}
	var req chatRequest
	if err != nil || len(body) > maxRequestBody || json.Unmarshal(body, &req) != nil {
		s.nBadRequest.Add(1)
		s.writeError(w, http.StatusBadRequest, body400)
		return
	}
	if s.cfg.Provider != DeepSeek {
		id := "req_" + strconv.FormatInt(s.seq.Add(1), 10)
		if s.cfg.Provider == Anthropic {
			w.Header()["Request-Id"] = []string{id}
		} else {
			w.Header()["X-Request-Id"] = []string{id}
		}
	}
	if s.cfg.Windows.on() && !s.charge(w.Header(), int64(len(body))/4+req.maxTokens()) {
		s.nRateLimited.Add(1)
		s.writeError(w, http.StatusTooManyRequests, body429)
		return
	}
	p, admitted := s.decide(req.Model)
	if !admitted {
		s.answerError(w, p.behavior)
		return
	}
	p.done = sync.OnceFunc(func() { s.release(p) })
	defer p.done()
	p.service = s.serviceTime()
	s.serve(w, r, &req, p)
}

// serve answers an admitted request according to its plan.
func (s *Handler) serve(w http.ResponseWriter, r *http.Request, req *chatRequest, p plan) {
	sl := sleeper{ctx: r.Context(), done: s.done}
	defer sl.stop()
	switch p.behavior {
	case ResetBeforeHeaders:
		s.nFaults.Add(1)
		reset(w)
		return
	case SlowHeaders:
		s.nFaults.Add(1)
		if !sl.sleep(s.cfg.Faults.SlowHeadersDelay) {
			s.nCanceled.Add(1)
			return
		}
	case CutMidBody, TruncatedJSON, StallMidBody, ErrorInStream:
		s.nFaults.Add(1)
	}
	stream := req.Stream && p.behavior != TruncatedJSON
	h := w.Header()
	if stream {
		h["Content-Type"] = []string{"text/event-stream"}
		h["Cache-Control"] = []string{"no-cache"}
	} else {
		h["Content-Type"] = []string{"application/json"}
	}
	headersSent := false
	if p.wait > 0 {
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		headersSent = true
		line := "\n"
		if stream {
			line = ": keep-alive\n\n"
		}
		if !sl.keepAlive(w, line, p.wait, s.cfg.Wait.Interval) {
			s.nCanceled.Add(1)
			return
		}
		if p.closeAfterWait {
			s.nClosedWhileWaiting.Add(1)
			abort(w)
		}
	}
	a := answer{
		anthropic: s.cfg.Provider == Anthropic,
		id:        "chatcmpl-" + strconv.FormatInt(s.seq.Add(1), 10),
		created:   s.created,
		prompt:    req.promptTokens(),
		chunks:    s.chunks,
	}
	a.model = appendJSONString(nil, req.Model)
	var ok bool
	switch {
	case p.behavior == StallMidBody:
		ok = s.stall(w, &a, &sl, stream)
	case p.behavior == ErrorInStream:
		ok = s.errorInStream(w, stream, headersSent)
	case stream:
		ok = s.stream(w, req, &a, &sl, p.service, p.behavior == CutMidBody, p.done)
	default:
		ok = s.json(w, &a, &sl, p, headersSent)
	}
	if ok {
		s.nCompleted.Add(1)
	} else {
		s.nCanceled.Add(1)
	}
}

// stall writes the start of the answer, then keeps the connection open
// without another event until the client leaves or the server closes
// (StallMidBody). It reports false: the answer never completes.
func (s *Handler) stall(w http.ResponseWriter, a *answer, sl *sleeper, stream bool) bool {
	const forever = 24 * time.Hour
	rc := http.NewResponseController(w)
	if !stream {
		body := a.appendCompletion(nil)
		w.Write(body[:len(body)/2])
		rc.Flush()
		sl.sleep(forever)
		return false
	}
	n := min(max(s.cfg.Faults.StallAfter, 1), len(a.chunks))
	var buf []byte
	for i := range n {
		buf = a.appendChunk(buf, i)
	}
	if _, err := w.Write(buf); err != nil || rc.Flush() != nil {
		return false
	}
	sl.keepAlive(w, ": keep-alive\n\n", forever, s.cfg.Wait.Interval)
	return false
}

// errorInStream sends the error inside a 200 (ErrorInStream): a 429, or
// for the Anthropic personality its overloaded_error.
func (s *Handler) errorInStream(w http.ResponseWriter, stream, headersSent bool) bool {
	body := body429
	if stream {
		body = "data: " + body429 + "\n\n"
	}
	if s.cfg.Provider == Anthropic {
		body = anthropicOverloaded
		if stream {
			body = "event: error\ndata: " + anthropicOverloaded + "\n\n"
		}
	}
	if !headersSent {
		w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	_, err := io.WriteString(w, body)
	return err == nil
}

// json writes a chat.completion after the service time.
func (s *Handler) json(w http.ResponseWriter, a *answer, sl *sleeper, p plan, headersSent bool) bool {
	if !sl.sleep(p.service) {
		return false
	}
	b := p.behavior
	body := a.appendCompletion(make([]byte, 0, 512))
	switch b {
	case CutMidBody:
		if !headersSent {
			w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
		}
		w.Write(body[:len(body)/2])
		abort(w)
	case TruncatedJSON:
		body = body[:len(body)/2]
	}
	if !headersSent {
		w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	p.done() // the answer is complete once these bytes go out
	_, err := w.Write(body)
	return err == nil
}

// stream writes the chunks of a streamed answer lasting d: the first
// after Config.FirstChunkShare of d, the others evenly over the rest.
func (s *Handler) stream(w http.ResponseWriter, req *chatRequest, a *answer, sl *sleeper, d time.Duration, cut bool, done func()) bool {
	rc := http.NewResponseController(w)
	n := len(a.chunks)
	paced := d > 0
	if paced && rc.Flush() != nil { // headers first, as real APIs do
		return false
	}
	var due [16]time.Duration
	times := chunkTimes(due[:0], n, d, s.cfg.FirstChunkShare)
	var at time.Duration
	buf := make([]byte, 0, 1024)
	for i := range n {
		if paced {
			if !sl.sleep(times[i] - at) {
				return false
			}
			at = times[i]
			buf = buf[:0]
		}
		buf = a.appendChunk(buf, i)
		if cut && i >= (n-1)/2 {
			w.Write(buf)
			abort(w)
		}
		if paced && times[i] < d {
			if _, err := w.Write(buf); err != nil || rc.Flush() != nil {
				return false
			}
			buf = buf[:0]
		}
	}
	if paced && !sl.sleep(d-at) {
		return false
	}
	usage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	buf = a.appendFinish(buf, usage)
	done() // the answer is complete once these bytes go out
	_, err := w.Write(buf)
	return err == nil && rc.Flush() == nil
}
