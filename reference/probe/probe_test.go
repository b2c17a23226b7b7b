package probe

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/store"
)

func TestProbeViewOverStore(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sub := store.Submission{SubmissionID: "s1", CaseID: "c1", DestinationID: "d1", Decision: contract.StatusAccepted,
		ReceivedAt: time.Date(2026, 11, 30, 9, 15, 2, 0, time.UTC), Fields: map[string]string{"r/a": " x\n"},
		Payment: &contract.Payment{TransactionID: "TX", TransactionReference: "K", PaymentMethod: "CREDITCARD", Status: "BOOKED", GrossAmount: "1.50"},
		Event:   "set"}
	if _, err := st.Save(sub, true); err != nil {
		t.Fatal(err)
	}
	get := func(h http.Handler, path string, v any) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		json.Unmarshal(rec.Body.Bytes(), v)
		return rec.Code
	}
	h := New(st)
	var rec contract.Record
	if code := get(h, "/konform/v1/submissions/s1", &rec); code != 200 || rec.Status != contract.StatusProcessing {
		t.Fatalf("before post: %d %q", code, rec.Status)
	}
	st.MarkPosted("s1")
	// restart: reopen the store
	st.Close()
	st, err = store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h = New(st)
	if code := get(h, "/konform/v1/submissions/s1", &rec); code != 200 || rec.Status != contract.StatusAccepted ||
		rec.Fields["r/a"] != " x\n" || rec.Payment.GrossAmount != "1.50" || rec.Case == nil || rec.Bookings == nil {
		t.Fatalf("after post: %d %+v", code, rec)
	}
	var cl contract.CaseList
	if code := get(h, "/konform/v1/cases", &cl); code != 200 || len(cl.Cases) != 1 || cl.Cases[0].SubmissionID != "s1" {
		t.Fatalf("cases: %d %+v", code, cl)
	}
	var info contract.Info
	if get(h, "/konform/v1/info", &info); info.ContractVersion != contract.Version {
		t.Errorf("info %+v", info)
	}
	if code := get(h, "/konform/v1/submissions/unknown", &rec); code != 404 {
		t.Errorf("unknown: %d", code)
	}
}

// An XTA message is served under /xta/messages/{path-escaped MessageID}, not as a submission; a
// FIT-Connect submission not as an XTA message; both transports' cases are listed.
func TestProbeXTAMessages(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id := "urn:de:xta:messageid:a/b c"
	if _, err := st.SaveXTA(store.XTAMessage{Submission: store.Submission{XTAMessageID: id, Decision: contract.StatusAccepted,
		ReceivedAt: time.Now(), Fields: map[string]string{"r/a": "1"}}, NachrichtenUUID: "u1"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(store.Submission{SubmissionID: "s1", Decision: contract.StatusAccepted, ReceivedAt: time.Now()}, true); err != nil {
		t.Fatal(err)
	}
	h := New(st)
	get := func(path string, v any) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		json.Unmarshal(rec.Body.Bytes(), v)
		return rec.Code
	}
	var rec contract.Record
	if code := get("/konform/v1/xta/messages/"+url.PathEscape(id), &rec); code != 200 || rec.Transport != contract.TransportXTA ||
		rec.XTAMessageID != id || rec.SubmissionID != id || rec.Status != contract.StatusAccepted || rec.Case == nil || rec.Fields["r/a"] != "1" {
		t.Errorf("XTA record: %d %+v", code, rec)
	}
	if code := get("/konform/v1/submissions/"+url.PathEscape(id), &rec); code != 404 {
		t.Errorf("XTA message as a submission: %d", code)
	}
	if code := get("/konform/v1/xta/messages/s1", &rec); code != 404 {
		t.Errorf("submission as an XTA message: %d", code)
	}
	var cl contract.CaseList
	if code := get("/konform/v1/cases", &cl); code != 200 || len(cl.Cases) != 2 {
		t.Fatalf("cases: %d %+v", code, cl)
	}
	for _, c := range cl.Cases {
		if (c.SubmissionID == id) != (c.Transport == contract.TransportXTA) {
			t.Errorf("case %+v", c)
		}
	}
}
