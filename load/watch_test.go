package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/konform/konform/mocks/fitconnect"
)

func TestUnreadableFeedIsTheKitsFailureNotALoss(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer ts.Close()
	w := newWatcher(fitconnect.NewControl(ts.URL))
	if err := w.run(context.Background()); err == nil {
		t.Fatal("the watcher read a feed that answers 503")
	}
	_, _, err := settle(context.Background(), Options{SettleTimeout: time.Minute}, []sent{{submissionID: "s-1"}}, w)
	if err == nil || !strings.Contains(err.Error(), "event feed") {
		t.Errorf("settle: %v, want the feed's failure as an error (no verdict on the SUT)", err)
	}
}
