package sender

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/konform/konform/specs"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/shopspring/decimal"
)

var (
	destKeyOnce sync.Once
	destKey     *rsa.PrivateKey
)

// destinationKey is the 4096-bit key the Submission API demands, generated once per test run.
func destinationKey(t testing.TB) *rsa.PrivateKey {
	destKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 4096)
		if err != nil {
			t.Fatal(err)
		}
		destKey = k
	})
	return destKey
}

const validXML = `<?xml version="1.0" encoding="UTF-8"?>
<bau:Bauantrag xmlns:bau="urn:xoev-de:bauantrag"><bau:Antragsteller>Erika Mustermann</bau:Antragsteller><bau:Vorhaben>Carport</bau:Vorhaben></bau:Bauantrag>`

func specsDir() string {
	d, _ := specs.Dir()
	return d
}

var (
	schemaOnce sync.Once
	mdSchema   *jsonschema.Schema
	schemaErr  error
)

// metadataSchema compiles the metadata schema 1.0.0 from the specs folder; nil if it is absent.
func metadataSchema(t testing.TB) *jsonschema.Schema {
	schemaOnce.Do(func() {
		path := filepath.Join(specsDir(), "fit-connect", "metadata.schema.v1.0.0.json")
		f, err := os.Open(path)
		if err != nil {
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if schemaErr = c.AddResource(MetadataSchemaURI, doc); schemaErr != nil {
			return
		}
		mdSchema, schemaErr = c.Compile(MetadataSchemaURI)
	})
	if schemaErr != nil {
		t.Fatalf("metadata schema: %v", schemaErr)
	}
	return mdSchema
}

func goJoseDecrypt(compact string, key *rsa.PrivateKey) ([]byte, *jose.JSONWebEncryption, error) {
	obj, err := jose.ParseEncryptedCompact(compact, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, nil, err
	}
	pt, err := obj.Decrypt(key)
	return pt, obj, err
}

func sha512Hex(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }

// inspect judges a stored submission the way a receiver must and names every defect it finds.
func inspect(t *testing.T, f *fakeDS, sid string, res Result) (defects []string, md map[string]any) {
	t.Helper()
	sub := f.sub(sid)
	if sub == nil || !sub.submitted {
		t.Fatalf("submission %s not submitted", sid)
	}
	found := map[string]bool{}
	mdPlain, mdObj, err := goJoseDecrypt(sub.metadataJWE, f.key)
	if err != nil {
		t.Fatalf("metadata does not decrypt with go-jose: %v", err)
	}
	if mdObj.Header.KeyID != testKid || mdObj.Header.ExtraHeaders[jose.HeaderContentType] != "application/json" {
		found["metadata-header"] = true
	}
	if !bytes.Equal(mdPlain, res.MetadataJSON) {
		t.Errorf("Result.MetadataJSON differs from what was encrypted")
	}
	if tag := sub.metadataJWE[strings.LastIndex(sub.metadataJWE, ".")+1:]; tag != res.AuthenticationTags.Metadata {
		t.Errorf("metadata tag %q, result says %q", tag, res.AuthenticationTags.Metadata)
	}
	if s := metadataSchema(t); s != nil {
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(mdPlain))
		if err := s.Validate(inst); err != nil {
			found["metadata-schema"] = true
		}
	}
	d := json.NewDecoder(bytes.NewReader(mdPlain))
	d.UseNumber()
	if err := d.Decode(&md); err != nil {
		t.Fatalf("metadata is not JSON: %v", err)
	}
	if md["$schema"] != MetadataSchemaURI {
		found["metadata-version"] = true
	}
	cs, _ := md["contentStructure"].(map[string]any)
	data, _ := cs["data"].(map[string]any)
	ss, _ := data["submissionSchema"].(map[string]any)
	if ss["schemaUri"] != testSchema {
		found["schema-uri"] = true
	}
	if pst, _ := md["publicServiceType"].(map[string]any); pst["identifier"] != testService {
		found["service-type"] = true
	}

	// data
	parts := strings.Split(sub.dataJWE, ".")
	if tag := parts[len(parts)-1]; tag != res.AuthenticationTags.Data {
		t.Errorf("data tag %q, result says %q", tag, res.AuthenticationTags.Data)
	}
	dataPlain, dataObj, err := goJoseDecrypt(sub.dataJWE, f.key)
	switch {
	case err != nil:
		ek, _ := base64.RawURLEncoding.DecodeString(parts[1])
		if _, uerr := rsa.DecryptOAEP(sha256.New(), nil, f.key, ek, nil); uerr != nil {
			found["wrong-key"] = true
		} else {
			found["ciphertext"] = true
		}
	default:
		if dataObj.Header.KeyID != testKid || dataObj.Header.ExtraHeaders[jose.HeaderContentType] != "application/xml" {
			found["data-header"] = true
		}
		hash, _ := data["hash"].(map[string]any)
		if hash["content"] != sha512Hex(dataPlain) {
			found["data-hash"] = true
		}
		switch {
		case xml.Unmarshal(dataPlain, new(struct{})) != nil:
			found["data-malformed"] = true
		case !validAntrag(dataPlain):
			found["data-schema"] = true
		case bytes.Contains(dataPlain, []byte("<"+UnexpectedElement+"/>")):
			found["data-invalid"] = true
		}
	}

	// attachments
	listed := map[string]map[string]any{}
	atts, _ := cs["attachments"].([]any)
	for _, a := range atts {
		am := a.(map[string]any)
		listed[am["attachmentId"].(string)] = am
	}
	for id := range listed {
		if !contains(sub.announced, id) {
			found["attachment-missing"] = true
		}
	}
	for _, id := range sub.announced {
		am, ok := listed[id]
		if !ok {
			found["attachment-extra"] = true
			continue
		}
		hash, _ := am["hash"].(map[string]any)
		if f.stream {
			if hash["content"] != sub.streamed[id].plainHash {
				found["attachment-hash"] = true
			}
			continue
		}
		pt, obj, err := goJoseDecrypt(string(sub.attachments[id]), f.key)
		if err != nil {
			found["attachment-decrypt"] = true
			continue
		}
		if obj.Header.ExtraHeaders[jose.HeaderContentType] != am["mimeType"] || obj.Header.KeyID != testKid {
			found["attachment-header"] = true
		}
		if hash["content"] != sha512Hex(pt) {
			found["attachment-hash"] = true
		}
		jw := string(sub.attachments[id])
		if res.AuthenticationTags.Attachments[id] != jw[strings.LastIndex(jw, ".")+1:] {
			t.Errorf("attachment %s: tag differs from the result", id)
		}
	}
	for k := range found {
		defects = append(defects, k)
	}
	sort.Strings(defects)
	return defects, md
}

// validAntrag stands in for XSD validation of the test's Fachdaten: well-formed, with an
// Antragsteller element.
func validAntrag(b []byte) bool {
	dec := xml.NewDecoder(bytes.NewReader(b))
	hasApplicant := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return hasApplicant
		}
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Antragsteller" {
			hasApplicant = true
		}
	}
}

func baseSubmission(destID string) Submission {
	return Submission{
		DestinationID: destID,
		ServiceType:   ServiceType{Name: "Bauantrag", Identifier: testService},
		Data:          Bytes("application/xml", []byte(validXML)),
		DataSchema:    SchemaRef{URI: testSchema, MimeType: "application/xml"},
		Attachments: []Attachment{
			{Part: Bytes("application/pdf", []byte("%PDF-1.7 Antragsformular")), Filename: "antrag.pdf", Purpose: "form"},
			{Part: Bytes("image/jpeg", bytes.Repeat([]byte{0xff, 0xd8, 1, 2}, 3000)), Filename: "lageplan.jpg", Purpose: "attachment", Description: "Lageplan"},
		},
		Payment: &Payment{
			TransactionID: "9xxd-432x-6543", TransactionReference: "KZ-2026-000123", PaymentMethod: "CREDITCARD",
			Status: "BOOKED", GrossAmount: decimal.RequireFromString("1234567.05"),
			Timestamp: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC),
		},
		Reference: &ReferenceInfo{SenderReference: "OD-4711", ApplicationDate: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)},
	}
}

func newTestSender(srv string, opts ...Option) *Sender {
	return New(srv, srv+"/token", clientID, clientSecret, opts...)
}

func TestSendCorrectSubmission(t *testing.T) {
	f, srv := newFakeDS(t, destinationKey(t))
	res, err := newTestSender(srv.URL).Send(context.Background(), baseSubmission(f.destID))
	if err != nil {
		t.Fatal(err)
	}
	defects, md := inspect(t, f, res.SubmissionID, res)
	if len(defects) != 0 {
		t.Fatalf("correct submission has defects %v\n%s", defects, res.MetadataJSON)
	}
	if len(f.errs) > 0 {
		t.Fatalf("protocol errors: %v", f.errs)
	}
	if len(res.AttachmentIDs) != 2 || res.CaseID == "" || res.Hashes.Data != sha512Hex([]byte(validXML)) {
		t.Fatalf("result %+v", res)
	}
	if !bytes.Contains(res.MetadataJSON, []byte(`"grossAmount":1234567.05`)) {
		t.Errorf("grossAmount not written exactly: %s", res.MetadataJSON)
	}
	if rc := md["replyChannel"].(map[string]any); rc["eMail"].(map[string]any)["address"] != DefaultReplyAddress {
		t.Errorf("default reply channel: %v", rc)
	}
	if pi := md["paymentInformation"].(map[string]any); pi["transactionTimestamp"] != "2026-11-30T10:00:00Z" {
		t.Errorf("payment: %v", pi)
	}
	if metadataSchema(t) == nil {
		t.Log("metadata schema absent: schema validity not checked (set KONFORM_SPECS)")
	}
}

func TestMetadataValidAgainstSchema(t *testing.T) {
	s := metadataSchema(t)
	if s == nil {
		t.Skip("metadata.schema.v1.0.0.json not found under ../shared/specs/fit-connect or $KONFORM_SPECS")
	}
	f, srv := newFakeDS(t, destinationKey(t))
	variants := map[string]func(*Submission){
		"no attachments, no payment": func(s *Submission) { s.Attachments = nil; s.Payment = nil; s.Reference = nil },
		"deMail":                     func(s *Submission) { s.ReplyChannel = ReplyChannel{DeMail: &DeMailChannel{Address: "a@b.de-mail.de"}} },
		"elster":                     func(s *Submission) { s.ReplyChannel = ReplyChannel{Elster: &ElsterChannel{AccountID: "1234567890"}} },
		"fink":                       func(s *Submission) { s.ReplyChannel = ReplyChannel{Fink: &FinkChannel{PostfachRef: "hh/by/12345"}} },
		"one cent":                   func(s *Submission) { s.Payment.GrossAmount = decimal.RequireFromString("0.01") },
	}
	for name, mut := range variants {
		sub := baseSubmission(f.destID)
		mut(&sub)
		res, err := newTestSender(srv.URL).Send(context.Background(), sub)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(res.MetadataJSON))
		if err := s.Validate(inst); err != nil {
			t.Errorf("%s: metadata invalid: %v", name, err)
		}
	}
}

func TestEachBreakageProducesOnlyItsDefect(t *testing.T) {
	if metadataSchema(t) == nil {
		t.Skip("metadata schema absent: BreakMetadataSchema cannot be judged (set KONFORM_SPECS)")
	}
	f, srv := newFakeDS(t, destinationKey(t))
	wrong, _ := rsa.GenerateKey(rand.Reader, 2048)
	s := newTestSender(srv.URL, WithWrongKey(&wrong.PublicKey))
	for _, b := range Breakages {
		t.Run(b.String(), func(t *testing.T) {
			sub := baseSubmission(f.destID)
			sub.Break = b
			if b == BreakDataSchema {
				broken, err := DropElement(sub.Data, "Antragsteller")
				if err != nil {
					t.Fatal(err)
				}
				sub.Data = broken
			}
			res, err := s.Send(context.Background(), sub)
			if err != nil {
				t.Fatal(err)
			}
			defects, _ := inspect(t, f, res.SubmissionID, res)
			if len(defects) != 1 || defects[0] != b.String() {
				t.Fatalf("defects %v, want exactly [%s]\n%s", defects, b, res.MetadataJSON)
			}
		})
	}
}

func TestMalformedHelper(t *testing.T) {
	p, err := Malformed(Bytes("application/xml", []byte(validXML)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := readAll(p)
	if validAntrag(b) || xml.Unmarshal(b, new(struct{})) == nil {
		t.Fatalf("still well-formed: %s", b)
	}
	if _, err := DropElement(Bytes("application/xml", []byte("<a>")), "b"); err == nil {
		t.Error("DropElement accepted malformed XML")
	}
	if _, err := DropElement(Bytes("application/xml", []byte(validXML)), "Fehlt"); err == nil {
		t.Error("DropElement accepted a missing element")
	}
}

func TestBadInputIsRefused(t *testing.T) {
	f, srv := newFakeDS(t, destinationKey(t))
	cases := map[string]func(*Submission){
		"destination not uuid": func(s *Submission) { s.DestinationID = "abc" },
		"service not urn":      func(s *Submission) { s.ServiceType.Identifier = "Bauantrag" },
		"schema mime":          func(s *Submission) { s.DataSchema.MimeType = "text/xml" },
		"no data":              func(s *Submission) { s.Data.Open = nil },
		"purpose":              func(s *Submission) { s.Attachments[0].Purpose = "data" },
		"amount fraction":      func(s *Submission) { s.Payment.GrossAmount = decimal.RequireFromString("1.005") },
		"amount negative":      func(s *Submission) { s.Payment.GrossAmount = decimal.RequireFromString("-3") },
		"payment method":       func(s *Submission) { s.Payment.PaymentMethod = "CASH" },
		"two reply channels": func(s *Submission) {
			s.ReplyChannel = ReplyChannel{EMail: &EMailChannel{Address: "a@b.de"}, DeMail: &DeMailChannel{Address: "c@d.de"}}
		},
		"callback http":   func(s *Submission) { s.Callback = &Callback{URL: "http://x", Secret: strings.Repeat("s", 32)} },
		"callback secret": func(s *Submission) { s.Callback = &Callback{URL: "https://x", Secret: "short"} },
		"unknown break":   func(s *Submission) { s.Break = 99 },
		"open fails": func(s *Submission) {
			s.Attachments[1].Open = func() (io.ReadCloser, error) { return nil, os.ErrNotExist }
		},
	}
	for name, mut := range cases {
		sub := baseSubmission(f.destID)
		mut(&sub)
		if _, err := newTestSender(srv.URL).Send(context.Background(), sub); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "sender: ") {
			t.Errorf("%s: error %q does not name its origin", name, err)
		}
	}
	if len(f.subs) != 0 {
		t.Errorf("bad input reached the delivery service")
	}
}

func TestErrorsNameStepAndProblem(t *testing.T) {
	f, srv := newFakeDS(t, destinationKey(t))
	sub := baseSubmission(f.destID)
	_, err := New(srv.URL, srv.URL+"/token", clientID, "wrong").Send(context.Background(), sub)
	if err == nil || !strings.Contains(err.Error(), "token: HTTP 401: bad client credentials") {
		t.Errorf("token: %v", err)
	}
	sub.DestinationID = "00000000-0000-4000-8000-000000000000"
	_, err = newTestSender(srv.URL).Send(context.Background(), sub)
	if err == nil || !strings.Contains(err.Error(), "get destination: HTTP 404: Destination not found") {
		t.Errorf("destination: %v", err)
	}
	// a destination key below 4096 bits is refused
	small, _ := rsa.GenerateKey(rand.Reader, 2048)
	f2, srv2 := newFakeDS(t, small)
	_, err = newTestSender(srv2.URL).Send(context.Background(), baseSubmission(f2.destID))
	if err == nil || !strings.Contains(err.Error(), "get encryption key") || !strings.Contains(err.Error(), "4096") {
		t.Errorf("small key: %v", err)
	}
	// a key whose certificate does not match
	f3, srv3 := newFakeDS(t, small)
	f3.jwk["x5c"] = testJWK(t, destinationKey(t))["x5c"]
	_, err = newTestSender(srv3.URL, WithMinKeyBits(2048)).Send(context.Background(), baseSubmission(f3.destID))
	if err == nil || !strings.Contains(err.Error(), "different key") {
		t.Errorf("x5c mismatch: %v", err)
	}
	f3.jwk["key_ops"] = []string{"verify"}
	_, err = newTestSender(srv3.URL, WithMinKeyBits(2048)).Send(context.Background(), baseSubmission(f3.destID))
	if err == nil || !strings.Contains(err.Error(), "wrapKey") {
		t.Errorf("key_ops: %v", err)
	}
}

// zeroReader yields n zero bytes without holding them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := int64(len(p))
	if k > z.n {
		k = z.n
	}
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

func TestLargeAttachmentStreamsWithBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB attachment skipped in -short mode")
	}
	const size = 50 << 20
	f, srv := newFakeDS(t, destinationKey(t))
	f.stream = true
	sub := baseSubmission(f.destID)
	sub.Attachments = []Attachment{{
		Part:     Part{MimeType: "application/pdf", Size: size, Open: func() (io.ReadCloser, error) { return io.NopCloser(&zeroReader{n: size}), nil }},
		Filename: "bauzeichnungen.pdf", Purpose: "attachment",
	}}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	}()
	res, err := newTestSender(srv.URL).Send(context.Background(), sub)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	id := res.AttachmentIDs[0]
	got := f.sub(res.SubmissionID).streamed[id]
	z := sha512.New()
	io.Copy(z, &zeroReader{n: size})
	if got.plainLen != size || got.plainHash != hex.EncodeToString(z.Sum(nil)) || got.tag != res.AuthenticationTags.Attachments[id] {
		t.Fatalf("attachment arrived as %+v", got)
	}
	growth := int64(peak) - int64(before.HeapInuse)
	t.Logf("heap in use grew by at most %.1f MB while sending and receiving 50 MB", float64(growth)/(1<<20))
	if growth > 32<<20 {
		t.Fatalf("heap grew by %d MB: the attachment is not streamed", growth>>20)
	}
}
