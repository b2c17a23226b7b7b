package check

import (
	"testing"

	"github.com/konform/konform/mocks/recorder"
)

// An evidence entry's text in Ginkgo's reports counts the exchanges; they themselves are JSON.
func TestEvidenceTextCountsExchangesPerActor(t *testing.T) {
	ev := Evidence{Exchanges: []recorder.Exchange{{Actor: "hkr"}, {Actor: "fitconnect"}, {Actor: "hkr"}}}
	if got, want := ev.String(), "3 exchanges (fitconnect 1, hkr 2)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	ev = Evidence{Exchanges: []recorder.Exchange{}, Errors: []string{"xta: recorder unreachable"}}
	if got, want := ev.String(), "0 exchanges; not collected: xta: recorder unreachable"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
