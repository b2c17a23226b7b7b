package drive

import (
	"testing"
	"time"
)

func TestObservedCadenceIsTheMedianGapWithinBounds(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	at := func(secs ...float64) []time.Time {
		var out []time.Time
		for _, s := range secs {
			out = append(out, t0.Add(time.Duration(s*float64(time.Second))))
		}
		return out
	}
	for _, c := range []struct {
		name   string
		starts []time.Time
		want   time.Duration
	}{
		{"steady 2 s", at(0, 2, 4, 6, 8), 2 * time.Second},
		{"a callback burst does not shorten it", at(0, 10, 10.1, 20, 30, 40), 10 * time.Second},
		{"never below the floor", at(0, 0.1, 0.2, 0.3), cadenceFloor},
		{"never above the ceiling", at(0, 100, 200, 300), PollCeiling},
	} {
		if got := observedCadence(c.starts); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
