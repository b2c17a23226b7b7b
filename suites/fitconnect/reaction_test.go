package fitconnect

import (
	"strings"
	"testing"
	"time"
)

func TestQuietCadence(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	cases := []struct {
		name      string
		rounds    []time.Time
		callbacks []time.Time
		ok        bool
		period    time.Duration
	}{
		{"two quiet rounds", []time.Time{at(0), at(10)}, nil, true, 10 * time.Second},
		{"the last three of several", []time.Time{at(-9), at(-8), at(0), at(10), at(20)}, nil, true, 10 * time.Second},
		{"the shorter of the last two intervals", []time.Time{at(0), at(4), at(14)}, nil, true, 4 * time.Second},
		{"two when a callback came before the third", []time.Time{at(0), at(10), at(20)}, []time.Time{at(5)}, true, 10 * time.Second},
		{"one round", []time.Time{at(0)}, nil, false, 0},
		{"callback between", []time.Time{at(0), at(10)}, []time.Time{at(5)}, false, 0},
		{"callback at the last round", []time.Time{at(0), at(10)}, []time.Time{at(10)}, false, 0},
		{"callback before the first only shortens", []time.Time{at(0), at(10)}, []time.Time{at(-5)}, true, 10 * time.Second},
		{"first round answers a callback", []time.Time{at(0), at(10)}, []time.Time{at(-1)}, false, 0},
		{"same instant", []time.Time{at(3), at(3)}, nil, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := quietCadence(tc.rounds, tc.callbacks)
			if ok != tc.ok || (ok && c.Period() != tc.period) {
				t.Errorf("got %v period %s, want %v period %s", ok, c.Period(), tc.ok, tc.period)
			}
		})
	}
}

// A SUT polling on a fixed schedule whose last round started late (a busy machine) is next
// due on its schedule, not a lengthened period after the late round.
func TestCadenceAfterALateRound(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC)
	late := cadence{Earlier: t0, Previous: t0.Add(time.Second), Last: t0.Add(2300 * time.Millisecond)}
	if p, due := late.Period(), late.NextDue(); p != time.Second || !due.Equal(t0.Add(3*time.Second)) {
		t.Errorf("rounds at 0, 1, 2.3 s: period %s, next due %s; want 1 s and 3 s", p, due.Sub(t0))
	}
	early := cadence{Earlier: t0, Previous: t0.Add(1300 * time.Millisecond), Last: t0.Add(2 * time.Second)}
	if due := early.NextDue(); !due.Equal(t0.Add(2700 * time.Millisecond)) {
		t.Errorf("rounds at 0, 1.3, 2 s: next due %s; want 2.7 s (the earlier projection)", due.Sub(t0))
	}
}

// A round two intervals late followed at once by the next on schedule is no SUT that polls
// too often; three rounds a few milliseconds apart are.
func TestCadenceAverage(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	late := cadence{Earlier: ms(0), Previous: ms(1994), Last: ms(2035)}
	if avg, ok := late.average(); !ok || avg < 500*time.Millisecond || late.Period() != 41*time.Millisecond {
		t.Errorf("rounds at 0, 1.994, 2.035 s: average %s (%v), period %s; want an average of about 1 s and a period of 41 ms", avg, ok, late.Period())
	}
	fast := cadence{Earlier: ms(0), Previous: ms(40), Last: ms(80)}
	if avg, ok := fast.average(); !ok || avg != 40*time.Millisecond {
		t.Errorf("rounds every 40 ms: average %s (%v)", avg, ok)
	}
	if _, ok := (cadence{Previous: ms(0), Last: ms(40)}).average(); ok {
		t.Error("two rounds have one interval, no average")
	}
}

func TestCadenceRoom(t *testing.T) {
	last := time.Date(2026, 11, 30, 9, 15, 10, 0, time.UTC)
	c := cadence{Previous: last.Add(-10 * time.Second), Last: last}
	if !c.room(last.Add(300 * time.Millisecond)) {
		t.Error("a callback 0.3 s after a 10 s round leaves room")
	}
	// next due at +10 s, slack 1 s: the window of 3 s must end by +9 s.
	if !c.room(last.Add(6 * time.Second)) {
		t.Error("a callback at +6 s ends its window at +9 s: room")
	}
	if c.room(last.Add(6100 * time.Millisecond)) {
		t.Error("a callback at +6.1 s ends its window after +9 s: no room")
	}
	// every second: window 0.5 s, slack 0.2 s: room for a callback up to +0.3 s.
	fast := cadence{Previous: last.Add(-time.Second), Last: last}
	if !fast.room(last.Add(250*time.Millisecond)) || fast.room(last.Add(350*time.Millisecond)) {
		t.Error("a SUT polling every second leaves room for a callback up to 0.3 s after its round")
	}
	if w := fast.window(); w != 500*time.Millisecond {
		t.Errorf("window %s at a 1 s cadence, want half the period", w)
	}
}

func TestReactionVerdict(t *testing.T) {
	last := time.Date(2026, 11, 30, 9, 15, 10, 0, time.UTC)
	c := cadence{Previous: last.Add(-10 * time.Second), Last: last}
	cb := last.Add(300 * time.Millisecond)
	prompt := cb.Add(40 * time.Millisecond)
	scheduled := last.Add(10 * time.Second)
	if v := reactionVerdict(c, cb, &prompt); v != "" {
		t.Errorf("prompt fetch judged: %s", v)
	}
	if v := reactionVerdict(c, cb, &scheduled); !strings.Contains(v, "waited for its poll") {
		t.Errorf("fetch at the scheduled round: %q", v)
	}
	if v := reactionVerdict(c, cb, nil); !strings.Contains(v, "did not fetch") {
		t.Errorf("no fetch: %q", v)
	}
}

func TestPagingVerdict(t *testing.T) {
	l := func(off, count, total int) listing {
		return listing{Offset: off, Limit: 100, Status: 200, Count: count, Total: total}
	}
	cases := []struct {
		name string
		ls   []listing
		want string // substring of the verdict; "" passes
	}{
		{"follows offset+count", []listing{l(0, 2, 5), l(2, 2, 5), l(4, 1, 5), l(0, 0, 0)}, ""},
		{"first page only", []listing{l(0, 2, 5), l(0, 2, 3), l(0, 1, 1)}, "reads only the first page"},
		{"steps by limit", []listing{l(0, 2, 5), l(3, 2, 5), l(0, 1, 1)}, "offset + count = 2"},
		{"stops early", []listing{l(0, 2, 5), l(2, 2, 5)}, "reads only the first page"},
		{"no listing", nil, "reads only the first page"},
		{"pages before a round ignored", []listing{l(3, 2, 5), l(0, 2, 4), l(2, 2, 4)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := pagingVerdict(tc.ls)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("verdict %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadListingNote(t *testing.T) {
	if c, tot := readListingNote("listing: offset 2, count 2, totalCount 5"); c != 2 || tot != 5 {
		t.Errorf("got %d/%d", c, tot)
	}
	if c, tot := readListingNote("fault: 503"); c != -1 || tot != -1 {
		t.Errorf("got %d/%d for a foreign note", c, tot)
	}
}
