package openaigo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/transport"
)

// An OpenAI key out of credit gets a 429 naming insufficient_quota: it
// comes back at once as openai-go's own *openai.Error after one attempt, the
// gate's limit untouched and the breaker closed.
func TestQuotaExhausted(t *testing.T) {
	srv := newServer(t, llmtest.Config{Provider: llmtest.OpenAI, QuotaExhaustedKey: "sk-test"})
	st := newStack(t, pacer.Config{Retry: fastRetry})
	c := newClient(srv, st.Client())

	rec := new(transport.Record)
	_, err := c.Chat.Completions.New(transport.ContextWithRecord(context.Background(), rec), chatParams)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != "insufficient_quota" {
		t.Fatalf("err = %v, want openai-go's 429 insufficient_quota", err)
	}
	if f := rec.Facts(); f.Attempts != 1 || f.Outcome != transport.QuotaExhausted {
		t.Errorf("facts %+v, want 1 attempt, quota_exhausted", f)
	}
	if n := srv.Stats().Requests; n != 1 {
		t.Errorf("server saw %d attempts, want 1", n)
	}
	for _, k := range st.Gate.Stats().Keys {
		if k.Limit != concurrency.DefaultInitialLimit {
			t.Errorf("gate limit of %s moved to %d", k.Key, k.Limit)
		}
	}
	if got := st.Breaker.State(); got != breaker.Closed {
		t.Errorf("breaker %v, want closed", got)
	}
}
