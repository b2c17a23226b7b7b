package xtareader

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/konform/konform/mocks/pki"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/store"
)

func xtaDefects() []string {
	var out []string
	for _, n := range defects.Names() {
		if strings.HasPrefix(n, "xta-") {
			out = append(out, n)
		}
	}
	return out
}

// Every defect leaves the plain path (5 messages in pages of 2, one round) intact, except the one
// that breaks paging: a defect breaks its own duty, not the reader.
func TestDefectsKeepThePlainPath(t *testing.T) {
	for _, name := range xtaDefects() {
		t.Run(name, func(t *testing.T) {
			f := newFakeXTA(t)
			for _, u := range uuids {
				f.offer("", readerID, antrag0200, withUUID(t, u), nil)
			}
			r, st := newTestReader(t, f, t.TempDir(), defects.Set{name: true})
			round(t, r)
			_, closed, _, _ := f.snapshot()
			want := 5
			if name == "xta-first-page-only" {
				want = 2
			}
			if n := len(cases(t, st)); n != want || len(closed) != want {
				t.Errorf("%d cases, %d closed after one round; want %d", n, len(closed), want)
			}
		})
	}
}

// Each defect breaks its duty.
func TestDefectsBreakTheirDuty(t *testing.T) {
	invalid := func(t testing.TB) []byte {
		return bytes.Replace(withUUID(t, uuids[3]), []byte("</nachrichtenkopf>"), []byte("</nachrichtenkopf><unerwartet/>"), 1)
	}
	checks := map[string]func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store){
		"xta-first-page-only": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			for _, u := range uuids {
				f.offer("", readerID, antrag0200, withUUID(t, u), nil)
			}
			round(t, r)
			if calls, _, _, _ := f.snapshot(); len(callsOf(calls, "getNextStatusList")) != 0 {
				t.Error("paged on")
			}
		},
		"xta-fetch-guessed-id": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			id := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
			round(t, r)
			calls, _, _, _ := f.snapshot()
			if got := callsOf(calls, "getMessage"); len(got) != 2 || got[1].ids[0] == id {
				t.Errorf("getMessage calls %+v, want the listed one and a guessed one", got)
			}
		},
		"xta-close-before-store": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			id := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
			stored := true
			f.onClose = func(string) { _, err := st.Get(id); stored = err == nil }
			round(t, r)
			if stored {
				t.Error("stored before the close")
			}
		},
		"xta-close-constant-request-id": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
			round(t, r)
			if calls, _, _, _ := f.snapshot(); callsOf(calls, "close")[0].requestID != "1" {
				t.Error("close names the delivering MsgBoxRequestID")
			}
		},
		"xta-close-untaken": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			foreign := f.offer("", "bab:010020000000", antrag0200, withUUID(t, uuids[0]), nil)
			unserved := f.offer("", readerID, "konform.nichtUnterstuetzt.9999", withUUID(t, uuids[1]), nil)
			round(t, r)
			calls, closed, _, _ := f.snapshot()
			if !slices.Contains(closed, foreign) || slices.Contains(closed, unserved) || len(callsOf(calls, "getMessage")) != 0 {
				t.Errorf("closed %v, getMessage %d; want only the other reader's closed, nothing fetched", closed, len(callsOf(calls, "getMessage")))
			}
		},
		"xta-no-dedupe-message-id": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			id := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
			round(t, r)
			f.offer(id, readerID, antrag0200, withUUID(t, uuids[1]), nil)
			round(t, r)
			if n := len(cases(t, st)); n != 2 {
				t.Errorf("%d cases, want 2", n)
			}
		},
		"xta-no-dedupe-nachrichten-uuid": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
			round(t, r)
			f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
			round(t, r)
			if n := len(cases(t, st)); n != 2 {
				t.Errorf("%d cases, want 2", n)
			}
		},
		"xta-ignore-reader": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			f.offer("", "bab:010020000000", antrag0200, withUUID(t, uuids[0]), nil)
			round(t, r)
			if n := len(cases(t, st)); n != 1 {
				t.Errorf("%d cases, want the other reader's message as a case", n)
			}
		},
		"xta-ignore-message-type": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			f.offer("", readerID, "konform.nichtUnterstuetzt.9999", withUUID(t, uuids[0]), nil)
			round(t, r)
			if n := len(cases(t, st)); n != 1 {
				t.Errorf("%d cases, want the unserved message as a case", n)
			}
		},
		"xta-no-wsa-to": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			round(t, r)
			calls, _, _, _ := f.snapshot()
			for _, c := range calls {
				if (c.wsa.To == "") != (c.op == "checkAccountActive") {
					t.Errorf("%s: wsa:To %q", c.op, c.wsa.To)
				}
			}
		},
		"xta-plain-soap": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			f.offer("", readerID, antrag0200, invalid(t), nil)
			round(t, r)
			calls, _, sent, _ := f.snapshot()
			for _, c := range calls {
				if c.mtom {
					t.Errorf("%s is MTOM", c.op)
				}
			}
			if len(sent) != 1 {
				t.Error("no Rückweisung sent inline")
			}
		},
		"xta-no-cert-on-management": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			f.offer("", readerID, antrag0200, invalid(t), nil)
			round(t, r)
			calls, _, sent, _ := f.snapshot()
			for _, c := range calls {
				if c.cert != (c.op != "checkAccountActive") {
					t.Errorf("%s: client certificate %v", c.op, c.cert)
				}
			}
			if len(sent) != 1 {
				t.Error("no Rückweisung")
			}
		},
		"xta-trust-any-server": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			other, err := pki.NewCA("Fremde CA")
			if err != nil {
				t.Fatal(err)
			}
			f.useServerCert(other)
			round(t, r)
			if calls, _, _, _ := f.snapshot(); len(calls) == 0 {
				t.Error("no request reached the server of another CA")
			}
		},
		"xta-stop-on-no-message": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			for _, u := range uuids[:3] {
				f.offer("", readerID, antrag0200, withUUID(t, u), nil)
			}
			f.requestIDInvalid = true
			round(t, r)
			before, _, _, _ := f.snapshot()
			round(t, r)
			if after, _, _, _ := f.snapshot(); len(after) != len(before) {
				t.Error("polled on after NoMessageAvailable while paging")
			}
		},
		"xta-drop-on-technical-fault": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			id := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
			f.failNext("getMessage", id, faultTech)
			round(t, r)
			round(t, r)
			if n := len(cases(t, st)); n != 0 {
				t.Errorf("%d cases, want the message given up", n)
			}
		},
		"xta-retry-permission-denied": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			id := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
			f.failNext("getMessage", id, faultDenied)
			f.failNext("getMessage", id, faultDenied)
			f.failNext("getMessage", id, faultDenied)
			round(t, r)
			if calls, _, _, _ := f.snapshot(); len(callsOf(calls, "getMessage")) != 3 {
				t.Errorf("%d getMessage calls in the round, want 3", len(callsOf(calls, "getMessage")))
			}
		},
		"xta-store-invalid": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			f.offer("", readerID, antrag0200, invalid(t), nil)
			round(t, r)
			if n := len(cases(t, st)); n != 1 {
				t.Errorf("%d cases, want the invalid message as a case", n)
			}
		},
		"xta-no-rueckweisung": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			id := f.offer("", readerID, antrag0200, invalid(t), nil)
			round(t, r)
			_, closed, sent, _ := f.snapshot()
			if len(sent) != 0 || !slices.Contains(closed, id) || len(cases(t, st)) != 0 {
				t.Errorf("sent %d, closed %v", len(sent), closed)
			}
		},
		"xta-leave-invalid-open": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			f.offer("", readerID, antrag0200, invalid(t), nil)
			round(t, r)
			round(t, r)
			_, closed, sent, _ := f.snapshot()
			if len(sent) != 1 || len(closed) != 0 || len(cases(t, st)) != 0 {
				t.Errorf("sent %d, closed %v", len(sent), closed)
			}
		},
		"xta-forget-fetched-on-restart": func(t *testing.T, f *fakeXTA, r *Reader, st *store.Store) {
			// Offered again after its close under the same MessageID: still one case (XT-RDR-050 holds).
			id := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
			round(t, r)
			f.offer(id, readerID, antrag0200, withUUID(t, uuids[1]), nil)
			round(t, r)
			if n := len(cases(t, st)); n != 1 {
				t.Errorf("%d cases, want 1", n)
			}
		},
	}
	for _, name := range xtaDefects() {
		check, ok := checks[name]
		if !ok {
			t.Errorf("no test for defect %s", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			f := newFakeXTA(t)
			r, st := newTestReader(t, f, t.TempDir(), defects.Set{name: true})
			check(t, f, r, st)
		})
	}
}

// A crash between store and close: under xta-forget-fetched-on-restart two cases, under
// xta-no-dedupe-message-id (which remembers what it has not closed yet) one.
func TestRestartDefects(t *testing.T) {
	for name, want := range map[string]int{"xta-forget-fetched-on-restart": 2, "xta-no-dedupe-message-id": 1, "": 1} {
		t.Run(name, func(t *testing.T) {
			f := newFakeXTA(t)
			dir := t.TempDir()
			st, err := store.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			r, err := New(f.config(t, defects.Set{name: name != ""}), st)
			if err != nil {
				t.Fatal(err)
			}
			id := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
			f.resetClose[id] = true
			round(t, r)
			st.Close()
			r2, st2 := newTestReader(t, f, dir, defects.Set{name: name != ""})
			round(t, r2)
			if n := len(cases(t, st2)); n != want {
				t.Errorf("%d cases after the restart, want %d", n, want)
			}
		})
	}
}
