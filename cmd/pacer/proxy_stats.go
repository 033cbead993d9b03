package main

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/pacerhttp/pacer/quota"
)

// proxyStats is the JSON of GET /pacer/stats.
type proxyStats struct {
	// Upstream is the API forwarded to.
	Upstream string `json:"upstream"`
	// SharedLimit reports that the gate's limit lives in Redis.
	SharedLimit bool `json:"shared_limit"`
	// Breaker is the circuit breaker's state: closed, open or half-open.
	Breaker string `json:"breaker,omitempty"`
	// Gate holds, per gate key (host and model), the learned limit, the
	// requests in flight and those queued.
	Gate []gateKeyJSON `json:"gate"`
	// Quota holds, per key whose server sent rate-limit headers, what the
	// quota layer believes is left of each window.
	Quota []quotaKeyJSON `json:"quota"`
}

type gateKeyJSON struct {
	Key      string `json:"key"`
	Limit    int    `json:"limit"`
	InFlight int    `json:"in_flight"`
	Queued   int    `json:"queued"`
}

type quotaKeyJSON struct {
	Key          string      `json:"key"`
	Requests     *budgetJSON `json:"requests,omitempty"`
	Tokens       *budgetJSON `json:"tokens,omitempty"`
	InputTokens  *budgetJSON `json:"input_tokens,omitempty"`
	OutputTokens *budgetJSON `json:"output_tokens,omitempty"`
	Waiting      int         `json:"waiting"`
}

type budgetJSON struct {
	Limit     int64      `json:"limit"`
	Remaining int64      `json:"remaining"`
	Reset     *time.Time `json:"reset,omitempty"`
}

func budget(b quota.Budget) *budgetJSON {
	if !b.Known {
		return nil
	}
	j := &budgetJSON{Limit: b.Limit, Remaining: b.Remaining}
	if !b.Reset.IsZero() {
		t := b.Reset.UTC()
		j.Reset = &t
	}
	return j
}

// stats is a snapshot of the stack's state.
func (p *proxy) stats() proxyStats {
	st := p.cfg.Stack
	s := proxyStats{Upstream: p.cfg.Upstream.Redacted(), SharedLimit: p.cfg.Shared, Gate: []gateKeyJSON{}, Quota: []quotaKeyJSON{}}
	if st.Breaker != nil {
		s.Breaker = st.Breaker.State().String()
	}
	if st.Gate != nil {
		for _, k := range st.Gate.Stats().Keys {
			s.Gate = append(s.Gate, gateKeyJSON{Key: k.Key, Limit: k.Limit, InFlight: k.InFlight, Queued: k.Queued})
		}
	}
	if st.Quota != nil {
		for _, k := range st.Quota.Stats().Keys {
			s.Quota = append(s.Quota, quotaKeyJSON{
				Key: k.Key, Requests: budget(k.Requests), Tokens: budget(k.Tokens),
				InputTokens: budget(k.InputTokens), OutputTokens: budget(k.OutputTokens), Waiting: k.Waiting,
			})
		}
	}
	return s
}

func (p *proxy) writeStats(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(p.stats())
}
