package redislimit

import (
	"strings"
	"testing"
)

// TestScriptsExpanded: every placeholder of the scripts' text is filled
// from package policy.
func TestScriptsExpanded(t *testing.T) {
	for name, body := range map[string]string{
		"acquire": acquireBody, "admit": admitBody, "release": releaseBody,
		"cancel": cancelBody, "renew": renewBody, "stats": statsBody,
	} {
		if text := expand(prelude+body, serverClock); strings.Contains(text, "${") {
			i := strings.Index(text, "${")
			t.Errorf("%s script: placeholder left: %q", name, text[i:min(i+24, len(text))])
		}
	}
}
