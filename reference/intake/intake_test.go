package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/fitconnect"
	"github.com/konform/konform/reference/store"
	"github.com/konform/konform/reference/xsd"
)

type harness struct {
	t     *testing.T
	zd    *fakeZD
	dir   string
	st    *store.Store
	proc  *Processor
	books *recBooker
}

type recBooker struct{ orders []PaymentOrder }

func (b *recBooker) Enqueue(o PaymentOrder) error { b.orders = append(b.orders, o); return nil }

func newHarness(t *testing.T, defectList string, opts ...Option) *harness {
	t.Helper()
	h := &harness{t: t, zd: newFakeZD(t), dir: t.TempDir(), books: &recBooker{}}
	h.open(defectList, opts...)
	return h
}

func (h *harness) open(defectList string, opts ...Option) {
	h.t.Helper()
	schema, err := LoadMetadataSchema(specsDir(h.t))
	if err != nil {
		h.t.Fatal(err)
	}
	d, err := defects.Parse(defectList)
	if err != nil {
		h.t.Fatal(err)
	}
	st, err := store.Open(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { st.Close() })
	h.st = st
	toy, err := xsd.Load("testdata/toy-antrag.xsd")
	if err != nil {
		h.t.Fatal(err)
	}
	h.proc = New(Config{DestinationID: testDestination, DecryptionKey: encKey, SigningKey: sigKey, MetadataSchema: schema,
		DataXSDs: map[string]*xsd.Schema{XBauAntrag0200.URI: toy}, Services: []string{testService}, Defects: d}, h.zd.client(testSecret), st, append([]Option{WithBooker(h.books)}, opts...)...)
}

func (h *harness) poll() error { return h.proc.Poll(context.Background()) }

func (h *harness) get(sid string) store.Submission {
	h.t.Helper()
	s, err := h.st.Get(sid)
	if err != nil {
		h.t.Fatalf("submission %s not stored: %v", sid, err)
	}
	return s
}

func TestAcceptPath(t *testing.T) {
	h := newHarness(t, "")
	fs := h.zd.add(spec{attachments: [][]byte{pdfContent}, meta: func(m map[string]any) {
		m["paymentInformation"] = json.RawMessage(`{"transactionId":"TX-1","transactionReference":"5000.1234.5678","paymentMethod":"CREDITCARD","status":"BOOKED","grossAmount":123.4}`)
	}})
	if err := h.poll(); err != nil {
		t.Fatal(err)
	}
	s := h.get(fs.SubmissionID)
	if s.Decision != contract.StatusAccepted || !s.EventPosted || s.Case == nil {
		t.Fatalf("decision %q posted %v case %v problems %+v", s.Decision, s.EventPosted, s.Case, s.Problems)
	}
	if got := s.Fields["baugenehmigung.antrag.0200/antragsteller[2]/name/familienname/name"]; got != "Øvergaard" {
		t.Errorf("field = %q", got)
	}
	if got := s.Fields["baugenehmigung.antrag.0200/code/@listVersionID"]; got != "1.0" {
		t.Errorf("attribute field = %q", got)
	}
	if len(s.Attachments) != 1 || s.Attachments[0].SHA512 != sha(pdfContent) || s.Attachments[0].Size != int64(len(pdfContent)) {
		t.Errorf("attachments %+v", s.Attachments)
	}
	if s.Payment == nil || s.Payment.GrossAmount != "123.40" {
		t.Errorf("payment %+v", s.Payment)
	}
	if len(h.books.orders) != 1 || h.books.orders[0].Amount.StringFixed(2) != "123.40" || h.books.orders[0].Kassenzeichen != "5000.1234.5678" {
		t.Errorf("booking orders %+v", h.books.orders)
	}
	sets := h.zd.postedFor(fs.SubmissionID)
	if len(sets) != 1 || sets[0].Event() != fitconnect.EventAcceptSubmission {
		t.Fatalf("posted %+v", sets)
	}
	set := sets[0]
	if set.Iss != testDestination || set.Txn != "case:"+fs.CaseID || set.Schema != fitconnect.SETPayloadSchema || set.JTI == "" {
		t.Errorf("SET claims %+v", set)
	}
	var pl fitconnect.TagsPayload
	json.Unmarshal(set.Events[fitconnect.EventAcceptSubmission], &pl)
	if pl.AuthenticationTags == nil {
		t.Fatalf("accept-submission without authenticationTags: %s", set.Events[fitconnect.EventAcceptSubmission])
	}
	tags := *pl.AuthenticationTags
	if tags.Metadata != fitconnect.AuthTag(fs.EncryptedMetadata) || tags.Data != fitconnect.AuthTag(fs.EncryptedData) ||
		tags.Attachments[fs.Attachments[0]] != fitconnect.AuthTag(fs.attachments[fs.Attachments[0]]) {
		t.Errorf("authentication tags %+v", tags)
	}
	raw := h.zd.posted[fs.CaseID][0]
	_, jws, _ := fitconnect.ParseEvent(raw)
	if err := fitconnect.VerifyEvent(jws, jwks(sigKey)); err != nil {
		t.Errorf("SET not verifiable with the signing key: %v", err)
	}
	if n, _ := h.st.CountCases(); n != 1 {
		t.Errorf("%d cases", n)
	}
}

func TestRejections(t *testing.T) {
	cases := []struct {
		name     string
		sp       spec
		typ      string
		instance string
		defect   string // switching it on makes the submission accepted
	}{
		{"data hash", spec{meta: func(m map[string]any) {
			m["contentStructure"].(map[string]any)["data"].(map[string]any)["hash"] = map[string]any{"type": "sha512", "content": strings.Repeat("a", 128)}
		}}, ProblemHashMismatch, "data", "skip-hash-check"},
		{"metadata schema", spec{meta: func(m map[string]any) { m["replyChannel"] = map[string]any{"eMail": map[string]any{}} }}, ProblemSchemaViolation, "metadata", "skip-metadata-schema-check"},
		{"unsupported service", spec{service: "urn:de:fim:leika:leistung:99999999999999"}, ProblemUnsupportedService, "submission", "accept-unsupported-service"},
		{"unsupported schema", spec{meta: func(m map[string]any) {
			m["contentStructure"].(map[string]any)["data"].(map[string]any)["submissionSchema"] = map[string]any{"schemaUri": "urn:example:other", "mimeType": "application/xml"}
		}}, ProblemUnsupportedSchema, "data", "accept-unsupported-schema"},
		{"wrong root", spec{data: []byte(`<x:other xmlns:x="http://www.xleitstelle.de/xbau/2/3/1"><a>1</a></x:other>`)}, ProblemSchemaViolation, "data", "skip-data-schema-check"},
		{"foreign root", spec{data: []byte(`<other xmlns="urn:example:not-xbau"><a>1</a></other>`)}, ProblemSchemaViolation, "data", "xsd-by-root-element"},
		{"not well-formed", spec{data: []byte(`<x:baugenehmigung.antrag.0200 xmlns:x="http://www.xleitstelle.de/xbau/2/3/1"><a>`)}, ProblemSyntaxViolation, "data", "skip-data-schema-check"},
		{"not valid against the XSD", spec{data: []byte(`<x:baugenehmigung.antrag.0200 xmlns:x="http://www.xleitstelle.de/xbau/2/3/1"><a/></x:baugenehmigung.antrag.0200>`)}, ProblemSchemaViolation, "data", "skip-data-xsd-validation"},
		{"attachment missing in metadata", spec{attachments: [][]byte{pdfContent}, meta: func(m map[string]any) {
			m["contentStructure"].(map[string]any)["attachments"] = []any{}
		}}, ProblemAttachmentsMismatch, "attachment:", "skip-attachment-consistency-check"},
		{"forged event log", spec{forgeEvents: true}, ProblemInvalidEventLog, "submission", "trust-forged-events"},
		{"attachment hash", spec{attachments: [][]byte{pdfContent}, sub: func(s *fakeSubmission) {}, meta: func(m map[string]any) {
			a := m["contentStructure"].(map[string]any)["attachments"].([]any)[0].(map[string]any)
			a["hash"] = map[string]any{"type": "sha512", "content": strings.Repeat("b", 128)}
		}}, ProblemHashMismatch, "attachment:", "skip-hash-check"},
		{"wrong encryption key id", spec{dataKid: "other-kid"}, ProblemEncryptionIssue, "data", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "")
			fs := h.zd.add(tc.sp)
			h.poll()
			s := h.get(fs.SubmissionID)
			if s.Decision != contract.StatusRejected || !s.EventPosted || s.Case != nil {
				t.Fatalf("decision %q posted %v case %v", s.Decision, s.EventPosted, s.Case)
			}
			found := false
			for _, p := range s.Problems {
				if p.Type == fitconnect.ProblemPrefix+tc.typ && strings.HasPrefix(p.Instance, tc.instance) {
					found = true
				}
			}
			if !found {
				t.Fatalf("problems %+v, want %s/%s", s.Problems, tc.typ, tc.instance)
			}
			sets := h.zd.postedFor(fs.SubmissionID)
			if len(sets) != 1 || sets[0].Event() != fitconnect.EventRejectSubmission {
				t.Fatalf("posted %+v", sets)
			}
			var payload struct{ Problems []fitconnect.ProblemEntry }
			json.Unmarshal(sets[0].Events[fitconnect.EventRejectSubmission], &payload)
			if len(payload.Problems) != len(s.Problems) || payload.Problems[0].Type != s.Problems[0].Type || payload.Problems[0].Title == "" {
				t.Errorf("reject payload %+v", payload)
			}
			if n, _ := h.st.CountCases(); n != 0 {
				t.Errorf("rejected submission made %d cases", n)
			}
			if tc.defect == "" {
				return
			}
			hd := newHarness(t, tc.defect)
			fs2 := hd.zd.add(tc.sp)
			hd.poll()
			if s := hd.get(fs2.SubmissionID); s.Decision != contract.StatusAccepted {
				t.Errorf("with %s: decision %q problems %+v", tc.defect, s.Decision, s.Problems)
			}
		})
	}
}

func TestRedeliveryAfterFailedPostAndRestart(t *testing.T) {
	for _, defect := range []string{"", "no-dedupe-on-redelivery"} {
		t.Run("defect="+defect, func(t *testing.T) {
			h := newHarness(t, defect)
			fs := h.zd.add(spec{})
			h.zd.failPosts = 1
			if err := h.poll(); err == nil {
				t.Fatal("want error from failed event post")
			}
			if s := h.get(fs.SubmissionID); s.EventPosted || s.Decision != contract.StatusAccepted {
				t.Fatalf("after failed post: %+v", s)
			}
			h.st.Close()
			h.open(defect)
			if err := h.poll(); err != nil {
				t.Fatal(err)
			}
			n, _ := h.st.CountCases()
			want := 1
			if defect != "" {
				want = 2
			}
			if n != want {
				t.Fatalf("%d cases, want %d", n, want)
			}
			if !h.get(fs.SubmissionID).EventPosted {
				t.Error("event not posted after restart")
			}
			if got := len(h.zd.postedFor(fs.SubmissionID)); got != 1 {
				t.Errorf("%d events posted", got)
			}
		})
	}
}

func TestConflictMeansPosted(t *testing.T) {
	h := newHarness(t, "")
	fs := h.zd.add(spec{})
	h.zd.failPosts = 1
	h.poll()
	fs.decided = true // the delivery service got the decision after all
	if err := h.proc.repostPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !h.get(fs.SubmissionID).EventPosted {
		t.Error("409 not taken as posted")
	}
}

func TestPaging(t *testing.T) {
	for _, tc := range []struct {
		defect string
		want   int
	}{{"", 5}, {"first-page-only", 2}} {
		h := newHarness(t, tc.defect, WithPageSize(2))
		for range 5 {
			h.zd.add(spec{})
		}
		// one round only: the fake keeps undecided ones listed, so the first page shrinks
		h.zd.mu.Lock()
		h.zd.mu.Unlock()
		h.poll()
		if n, _ := h.st.CountCases(); n != tc.want && !(tc.defect != "" && n < 5) {
			t.Errorf("defect %q: %d cases after one round, want %d", tc.defect, n, tc.want)
		}
	}
}

func TestForeignDestination(t *testing.T) {
	h := newHarness(t, "")
	fs := h.zd.add(spec{destination: foreignDestination})
	h.poll()
	if _, err := h.st.Get(fs.SubmissionID); err == nil {
		t.Fatal("foreign submission processed")
	}
	if q := h.zd.listQueries[0]; !strings.Contains(q, "destinationId="+testDestination) {
		t.Errorf("list query %q lacks the destination filter", q)
	}
	hd := newHarness(t, "poll-foreign-destination")
	fs2 := hd.zd.add(spec{destination: foreignDestination})
	hd.poll()
	if _, err := hd.st.Get(fs2.SubmissionID); err != nil {
		t.Error("defect poll-foreign-destination: foreign submission not processed")
	}
}

func TestDefectsChangeDecisions(t *testing.T) {
	t.Run("store-rejected-as-case", func(t *testing.T) {
		h := newHarness(t, "store-rejected-as-case")
		h.zd.add(spec{service: "urn:de:fim:leika:leistung:99999999999999"})
		h.poll()
		if n, _ := h.st.CountCases(); n != 1 {
			t.Errorf("%d cases", n)
		}
	})
	t.Run("reject-wrong-problem-type", func(t *testing.T) {
		h := newHarness(t, "reject-wrong-problem-type")
		fs := h.zd.add(spec{service: "urn:de:fim:leika:leistung:99999999999999"})
		h.poll()
		if p := h.get(fs.SubmissionID).Problems[0]; p.Type != fitconnect.ProblemPrefix+ProblemTechnicalError {
			t.Errorf("problem %+v", p)
		}
	})
	t.Run("accept-wrong-authentication-tags", func(t *testing.T) {
		h := newHarness(t, "accept-wrong-authentication-tags")
		fs := h.zd.add(spec{})
		h.poll()
		var pl fitconnect.TagsPayload
		json.Unmarshal(h.zd.postedFor(fs.SubmissionID)[0].Events[fitconnect.EventAcceptSubmission], &pl)
		if pl.AuthenticationTags == nil || pl.AuthenticationTags.Metadata == fitconnect.AuthTag(fs.EncryptedMetadata) {
			t.Error("tags unchanged")
		}
	})
	t.Run("token-wrong-credentials", func(t *testing.T) {
		h := newHarness(t, "")
		h.proc.client = h.zd.client("wrong")
		if err := h.poll(); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestAttachmentDefects(t *testing.T) {
	many := make([][]byte, 12)
	for i := range many {
		many[i] = []byte("anlage " + string(rune('a'+i)))
	}
	for _, tc := range []struct {
		defect     string
		atts       [][]byte
		want       int
		wantFields bool
	}{
		{"", many, 12, true},
		{"lose-attachments-after-10", many, 10, true},
		{"store-pdf-only", many, 6, false},
		{"lose-large-attachment", [][]byte{pdfContent, bytes.Repeat([]byte("x"), 33<<20)}, 1, true},
	} {
		t.Run("defect="+tc.defect, func(t *testing.T) {
			if testing.Short() && tc.defect == "lose-large-attachment" {
				t.Skip("large attachment")
			}
			h := newHarness(t, tc.defect)
			fs := h.zd.add(spec{attachments: tc.atts})
			if err := h.poll(); err != nil {
				t.Fatal(err)
			}
			s := h.get(fs.SubmissionID)
			if len(s.Attachments) != tc.want || (len(s.Fields) > 0) != tc.wantFields {
				t.Errorf("%d attachments, %d fields", len(s.Attachments), len(s.Fields))
			}
		})
	}
}
