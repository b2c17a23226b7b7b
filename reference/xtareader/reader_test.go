package xtareader

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/pki"
	"github.com/konform/konform/reference/probe"
	"github.com/konform/konform/reference/store"
	"github.com/konform/konform/specs/specstest"
	"github.com/konform/konform/xta"
	"github.com/konform/konform/xta/xsdtest"
)

var uuids = []string{
	"5e2b0001-4001-4001-8001-00000000a001", "5e2b0001-4001-4001-8001-00000000a002", "5e2b0001-4001-4001-8001-00000000a003",
	"5e2b0001-4001-4001-8001-00000000a004", "5e2b0001-4001-4001-8001-00000000a005",
}

// The clean path: list (pages of 2, 5 waiting) → page on → fetch each listed message → store →
// close with the delivering answer's MsgBoxRequestID; every request authenticated, MTOM, WS-A.
func TestCleanPath(t *testing.T) {
	f := newFakeXTA(t)
	var ids []string
	for i, u := range uuids {
		var atts map[string][]byte
		if i == 0 {
			atts = map[string][]byte{"lageplan.pdf": []byte("%PDF-1.4 lageplan")}
		}
		ids = append(ids, f.offer("", readerID, antrag0200, withUUID(t, u), atts))
	}
	r, st := newTestReader(t, f, t.TempDir(), nil)
	f.onClose = func(id string) {
		if sub, err := st.Get(id); err != nil || sub.Case == nil {
			t.Errorf("message %s closed before it was stored with a case (%v)", id, err)
		}
	}
	round(t, r)

	calls, closed, _, left := f.snapshot()
	if left != 0 || len(closed) != 5 {
		t.Fatalf("after one round %d messages left in the box, %d closed; want 0 and 5", left, len(closed))
	}
	if calls[0].op != "checkAccountActive" || calls[1].op != "getStatusList" {
		t.Errorf("the round starts with %s, %s; want checkAccountActive, getStatusList", calls[0].op, calls[1].op)
	}
	if n := len(callsOf(calls, "getNextStatusList")); n != 2 {
		t.Errorf("%d getNextStatusList calls for 5 messages in pages of 2, want 2", n)
	}
	for _, c := range callsOf(calls, "getNextStatusList") {
		if !strings.HasPrefix(c.requestID, "urn:uuid:list-") {
			t.Errorf("getNextStatusList names MsgBoxRequestID %q, not the list's", c.requestID)
		}
	}
	for _, c := range callsOf(calls, "getMessage") {
		if len(c.ids) != 1 || !slices.Contains(ids, c.ids[0]) {
			t.Errorf("getMessage names %v, not one listed MessageID", c.ids)
		}
	}
	for _, c := range callsOf(calls, "close") {
		if got := f.delivered[c.requestID]; len(c.ids) != 1 || got != c.ids[0] {
			t.Errorf("close of %v names MsgBoxRequestID %q, which delivered %q", c.ids, c.requestID, got)
		}
	}
	seen := map[string]bool{}
	for _, c := range calls {
		if !c.mtom || !c.cert || c.action != c.wsa.Action || c.wsa.To != f.base+pathOf(c.op) ||
			!strings.HasPrefix(c.wsa.MessageID, "urn:uuid:") || seen[c.wsa.MessageID] {
			t.Errorf("%s: mtom %v, certificate %v, action %q, wsa %+v", c.op, c.mtom, c.cert, c.action, c.wsa)
		}
		seen[c.wsa.MessageID] = true
	}

	if n := len(cases(t, st)); n != 5 {
		t.Errorf("%d cases, want 5", n)
	}
	sub, err := st.Get(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if sub.Transport != contract.TransportXTA || sub.XTAMessageID != ids[0] || sub.Decision != contract.StatusAccepted ||
		len(sub.Attachments) != 1 || sub.Attachments[0].Filename != "lageplan.pdf" || sub.Attachments[0].Size != 17 {
		t.Errorf("stored record %+v", sub)
	}
	if v := sub.Fields["baugenehmigung.antrag.0200/nachrichtenkopf/identifikation.nachricht/nachrichtenUUID"]; v != uuids[0] {
		t.Errorf("field nachrichtenUUID %q, want %q (fields %v)", v, uuids[0], sub.Fields)
	}

	// The probe serves it under the path-escaped MessageID; the case list names the transport.
	h := probe.New(st)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/konform/v1/xta/messages/"+url.PathEscape(ids[0]), nil))
	var record contract.Record
	if err := json.Unmarshal(rec.Body.Bytes(), &record); err != nil || rec.Code != 200 || record.Transport != "xta" ||
		record.XTAMessageID != ids[0] || record.SubmissionID != ids[0] || record.Status != contract.StatusAccepted || record.Case == nil {
		t.Errorf("probe record: %d %s", rec.Code, rec.Body)
	}
	if c := cases(t, st); c[0].Transport != contract.TransportXTA {
		t.Errorf("case entry %+v has no transport xta", c[0])
	}

	// An empty box is no error.
	if err := r.Round(t.Context()); err != nil {
		t.Errorf("round on the empty box: %v", err)
	}
}

func pathOf(op string) string {
	o, _ := xta.OperationNamed(op)
	return o.Path
}

// One case per message: offered again under its MessageID after the close, or under a new
// MessageID with the same nachrichtenUUID.
func TestDedupe(t *testing.T) {
	f := newFakeXTA(t)
	r, st := newTestReader(t, f, t.TempDir(), nil)
	first := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
	round(t, r)
	f.offer(first, readerID, antrag0200, withUUID(t, uuids[1]), nil) // same MessageID, another XÖV message
	round(t, r)
	again := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil) // new MessageID, same nachrichtenUUID
	round(t, r)

	_, closed, _, left := f.snapshot()
	if left != 0 || len(closed) != 3 {
		t.Errorf("%d left in the box, %d closes; want 0, 3", left, len(closed))
	}
	c := cases(t, st)
	if len(c) != 1 {
		t.Fatalf("%d cases, want 1: %+v", len(c), c)
	}
	dup, err := st.Get(again)
	if err != nil || dup.Case == nil || dup.Case.Reference != c[0].Reference || dup.Decision != contract.StatusAccepted {
		t.Errorf("record of the repeated nachrichtenUUID: %+v %v", dup, err)
	}
}

// A schema-invalid payload: Rückweisung 1100 to the author (createMessageId first), a rejected
// record without case, the message closed.
func TestInvalidPayloadRueckweisung(t *testing.T) {
	f := newFakeXTA(t)
	r, st := newTestReader(t, f, t.TempDir(), nil)
	broken := bytes.Replace(withUUID(t, uuids[2]), []byte("</nachrichtenkopf>"), []byte("</nachrichtenkopf><unerwartet/>"), 1)
	id := f.offer("", readerID, antrag0200, broken, nil)
	round(t, r)

	calls, closed, sent, _ := f.snapshot()
	if len(sent) != 1 {
		t.Fatalf("%d messages sent, want one Rückweisung", len(sent))
	}
	md := sent[0].md
	if md.Destinations.Reader.Identifier.Value != authorID || md.Originators.Author.Identifier.Value != readerID ||
		md.Qualifier.MessageType.Code.Code != RueckweisungCode || md.Qualifier.MessageType.PayloadSchema != KernmodulNamespace ||
		!slices.Contains(md.MsgIdentification.InReplyTo, id) {
		t.Errorf("Rückweisung metadata %+v", md)
	}
	created := callsOf(calls, "createMessageId")
	if len(created) != 1 || !strings.HasPrefix(md.MsgIdentification.MessageID, "urn:de:xta:messageid:konform-test:out-") {
		t.Errorf("createMessageId calls %d, Rückweisung MessageID %q", len(created), md.MsgIdentification.MessageID)
	}
	specstest.RequireValidXML(t, rueckweisungXSDRel, sent[0].payload)
	if !bytes.Contains(sent[0].payload, []byte("<idNachricht><nachrichtenUUID>"+uuids[2]+"</nachrichtenUUID>")) {
		t.Errorf("Rückweisung does not name the rejected nachrichtenUUID:\n%s", sent[0].payload)
	}
	if !slices.Contains(closed, id) {
		t.Error("the invalid message was not closed")
	}
	if n := len(cases(t, st)); n != 0 {
		t.Errorf("%d cases, want none", n)
	}
	sub, err := st.Get(id)
	if err != nil || sub.Decision != contract.StatusRejected || sub.Case != nil || sub.Transport != contract.TransportXTA {
		t.Errorf("rejected record %+v %v", sub, err)
	}
}

// What is not for the reader (another Reader, an unserved MessageType) is neither fetched nor
// closed.
func TestMetadataFilter(t *testing.T) {
	f := newFakeXTA(t)
	r, st := newTestReader(t, f, t.TempDir(), nil)
	foreign := f.offer("", "bab:010020000000", antrag0200, withUUID(t, uuids[0]), nil)
	unserved := f.offer("", readerID, "konform.nichtUnterstuetzt.9999", withUUID(t, uuids[1]), nil)
	ours := f.offer("", readerID, antrag0200, withUUID(t, uuids[2]), nil)
	round(t, r)
	round(t, r)
	calls, closed, _, left := f.snapshot()
	for _, c := range callsOf(calls, "getMessage") {
		if c.ids[0] != ours {
			t.Errorf("fetched %s", c.ids[0])
		}
	}
	if !slices.Equal(closed, []string{ours}) || left != 2 {
		t.Errorf("closed %v (left %d), want only %s", closed, left, ours)
	}
	if n := len(cases(t, st)); n != 1 {
		t.Errorf("%d cases, want 1", n)
	}
	for _, id := range []string{foreign, unserved} {
		if _, err := st.Get(id); err == nil {
			t.Errorf("record for %s", id)
		}
	}
}

// Faults: a technical problem leaves the message for the next round; a refused getMessage is not
// repeated in the round; NoMessageAvailable RequestIdInvalid ends the paging, the rest comes next
// round; a failing getStatusList is an error of the round, nothing more.
func TestFaults(t *testing.T) {
	t.Run("technical problem", func(t *testing.T) {
		f := newFakeXTA(t)
		r, st := newTestReader(t, f, t.TempDir(), nil)
		id := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
		f.failNext("getMessage", id, faultTech)
		round(t, r)
		if n := len(cases(t, st)); n != 0 {
			t.Fatalf("%d cases after the fault", n)
		}
		round(t, r)
		_, closed, _, _ := f.snapshot()
		if n := len(cases(t, st)); n != 1 || !slices.Equal(closed, []string{id}) {
			t.Errorf("%d cases, closed %v; want 1 and the message", n, closed)
		}
	})
	for _, exc := range []string{faultDenied, faultInvalID, "ParameterIsNotValidException"} {
		t.Run(exc, func(t *testing.T) {
			f := newFakeXTA(t)
			r, st := newTestReader(t, f, t.TempDir(), nil)
			id := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
			f.failNext("getMessage", id, exc)
			round(t, r)
			calls, _, _, _ := f.snapshot()
			if n := len(callsOf(calls, "getMessage")); n != 1 {
				t.Errorf("%d getMessage calls in the refused round, want 1", n)
			}
			round(t, r)
			if n := len(cases(t, st)); n != 1 {
				t.Errorf("%d cases in the round after, want 1", n)
			}
		})
	}
	t.Run("RequestIdInvalid", func(t *testing.T) {
		f := newFakeXTA(t)
		r, st := newTestReader(t, f, t.TempDir(), nil)
		for _, u := range uuids[:3] {
			f.offer("", readerID, antrag0200, withUUID(t, u), nil)
		}
		f.requestIDInvalid = true
		if err := r.Round(t.Context()); err != nil {
			t.Errorf("round: %v", err)
		}
		if n := len(cases(t, st)); n != 2 {
			t.Errorf("%d cases after the first page, want 2", n)
		}
		round(t, r)
		if n := len(cases(t, st)); n != 3 {
			t.Errorf("%d cases after the next round, want 3", n)
		}
	})
	t.Run("getStatusList", func(t *testing.T) {
		f := newFakeXTA(t)
		r, _ := newTestReader(t, f, t.TempDir(), nil)
		f.failNext("getStatusList", "", faultTech)
		if err := r.Round(t.Context()); err == nil || !strings.Contains(err.Error(), "XTAWSTechnicalProblem") {
			t.Errorf("round error %v, want the technical problem named", err)
		}
	})
}

// A crash between store and close (the close's connection breaks, the reader restarts): the
// message offered again is closed, one case.
func TestRestartBetweenFetchAndClose(t *testing.T) {
	f := newFakeXTA(t)
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(f.config(t, nil), st)
	if err != nil {
		t.Fatal(err)
	}
	id := f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
	f.resetClose[id] = true
	round(t, r)
	if _, closed, _, _ := f.snapshot(); len(closed) != 0 {
		t.Fatal("closed despite the broken connection")
	}
	st.Close()

	r2, st2 := newTestReader(t, f, dir, nil)
	round(t, r2)
	_, closed, _, _ := f.snapshot()
	if n := len(cases(t, st2)); n != 1 || !slices.Equal(closed, []string{id}) {
		t.Errorf("%d cases, closed %v after the restart; want 1 and the message", n, closed)
	}
}

// A server whose certificate is not from the configured CA gets no request.
func TestRefusesServerOfAnotherCA(t *testing.T) {
	f := newFakeXTA(t)
	r, _ := newTestReader(t, f, t.TempDir(), nil)
	f.offer("", readerID, antrag0200, withUUID(t, uuids[0]), nil)
	other, err := pki.NewCA("Fremde CA")
	if err != nil {
		t.Fatal(err)
	}
	f.useServerCert(other)
	if err := r.Round(t.Context()); err == nil {
		t.Error("round against a foreign server certificate succeeded")
	}
	if calls, _, _, _ := f.snapshot(); len(calls) != 0 {
		t.Errorf("%d requests reached the server of another CA", len(calls))
	}
}

// Every SOAP request the reader sends (also sendMessage with the Rückweisung, XOP inlined) is
// valid against the XTA 2 v3 schemas, and the Rückweisung against XBau.
func TestRequestsValidAgainstXTASchemas(t *testing.T) {
	f := newFakeXTA(t)
	r, _ := newTestReader(t, f, t.TempDir(), nil)
	for _, u := range uuids[:3] {
		f.offer("", readerID, antrag0200, withUUID(t, u), map[string][]byte{"a.pdf": []byte("%PDF")})
	}
	f.offer("", readerID, antrag0200, []byte("<kaputt"), nil)
	round(t, r)
	calls, _, sent, _ := f.snapshot()
	ops := map[string]bool{}
	for _, c := range calls {
		ops[c.op] = true
		xsdtest.RequireValid(t, c.op+" request", c.xml)
	}
	for _, op := range []string{"checkAccountActive", "getStatusList", "getNextStatusList", "getMessage", "close", "createMessageId", "sendMessage"} {
		if !ops[op] {
			t.Errorf("no %s request to check", op)
		}
	}
	if len(sent) != 1 {
		t.Fatalf("%d Rückweisungen", len(sent))
	}
	specstest.RequireValidXML(t, rueckweisungXSDRel, sent[0].payload)
}
