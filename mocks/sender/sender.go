// Package sender is the kit's online service (Onlinedienst): it sends submissions to a
// FIT-Connect delivery service through the public Submission API v1 exactly as a sender must —
// token, destination, encryption key, create, upload attachments, submit — and, when told to,
// with one deliberate defect (Breakage) for the receiver under test to find. Data and
// attachments are streamed; a 50 MB attachment does not sit in memory.
package sender

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/konform/konform/jose/jwe"
)

// Sender sends submissions as one registered online-service client.
type Sender struct {
	apiURL, tokenURL       string
	clientID, clientSecret string
	client                 *http.Client
	wrongKey               *rsa.PublicKey
	minKeyBits             int

	mu    sync.Mutex
	token token
}

// Option configures a Sender.
type Option func(*Sender)

// WithHTTPClient sets the HTTP client (default http.DefaultClient).
func WithHTTPClient(c *http.Client) Option { return func(s *Sender) { s.client = c } }

// WithWrongKey sets the key BreakWrongKey encrypts the data for; without it a fresh
// 2048-bit key is generated per submission.
func WithWrongKey(k *rsa.PublicKey) Option { return func(s *Sender) { s.wrongKey = k } }

// WithMinKeyBits lowers or raises the destination key size the sender accepts (default 4096,
// as the Submission API's JWK schema demands).
func WithMinKeyBits(bits int) Option { return func(s *Sender) { s.minKeyBits = bits } }

// New returns a sender for the Submission API at apiURL (e.g. https://host/ — paths /v1/...
// are appended) that authenticates at tokenURL with the client credentials.
func New(apiURL, tokenURL, clientID, clientSecret string, opts ...Option) *Sender {
	s := &Sender{
		apiURL: strings.TrimRight(apiURL, "/"), tokenURL: tokenURL,
		clientID: clientID, clientSecret: clientSecret,
		client: http.DefaultClient, minKeyBits: 4096,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

const (
	mimeJSON = "application/json"
	mimeXML  = "application/xml"
	mimeJOSE = "application/jose"
)

func checkUUID(field, v string) error {
	if _, err := uuid.Parse(v); err != nil || len(v) != 36 {
		return fmt.Errorf("%s %q is not a UUID", field, v)
	}
	return nil
}

func (sub *Submission) validate() error {
	if err := checkUUID("DestinationID", sub.DestinationID); err != nil {
		return err
	}
	if err := checkService("ServiceType", sub.ServiceType); err != nil {
		return err
	}
	if sub.ServiceType.Name == "" {
		return errors.New("ServiceType.Name is required by the create-submission request")
	}
	if sub.PublicService != nil {
		if err := checkService("PublicService", *sub.PublicService); err != nil {
			return err
		}
	}
	if sub.DataSchema.URI == "" {
		return errors.New("DataSchema.URI is required")
	}
	if u, err := url.Parse(sub.DataSchema.URI); err != nil || u.Scheme == "" {
		return fmt.Errorf("DataSchema.URI %q is not an absolute URI", sub.DataSchema.URI)
	}
	if sub.DataSchema.MimeType != mimeJSON && sub.DataSchema.MimeType != mimeXML {
		return fmt.Errorf("DataSchema.MimeType %q is neither %s nor %s", sub.DataSchema.MimeType, mimeJSON, mimeXML)
	}
	if sub.Data.Open == nil {
		return errors.New("Data.Open is nil: the submission has no Fachdaten")
	}
	if !mimeTypePattern.MatchString(sub.Data.MimeType) {
		return fmt.Errorf("Data.MimeType %q is not a MIME type", sub.Data.MimeType)
	}
	for i, a := range sub.Attachments {
		if a.Open == nil {
			return fmt.Errorf("Attachments[%d].Open is nil", i)
		}
		if !mimeTypePattern.MatchString(a.MimeType) {
			return fmt.Errorf("Attachments[%d].MimeType %q is not a MIME type", i, a.MimeType)
		}
		if !purposes[a.Purpose] {
			return fmt.Errorf("Attachments[%d].Purpose %q is none of form, attachment, report", i, a.Purpose)
		}
	}
	if sub.CaseID != "" {
		if err := checkUUID("CaseID", sub.CaseID); err != nil {
			return err
		}
	}
	if cb := sub.Callback; cb != nil {
		if u, err := url.Parse(cb.URL); err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("Callback.URL %q must be an https URL", cb.URL)
		}
		if n := len(cb.Secret); n < 32 || n > 512 {
			return fmt.Errorf("Callback.Secret has %d characters, 32–512 are required", n)
		}
	}
	if _, err := paymentMetadata(sub.Payment); err != nil {
		return err
	}
	if _, err := replyChannelMetadata(sub.ReplyChannel); err != nil {
		return err
	}
	if _, ok := breakNames[sub.Break]; !ok {
		return fmt.Errorf("unknown Break %d", int(sub.Break))
	}
	if sub.Break == BreakAttachmentHash && len(sub.Attachments) == 0 {
		return errors.New("BreakAttachmentHash needs at least one attachment")
	}
	return nil
}

// hashPart reads p once and returns its hex SHA-512 and size.
func hashPart(p Part) (string, int64, error) {
	rc, err := p.Open()
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha512.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// wrongHash returns a different valid SHA-512 hex digest: that of the content with a byte appended.
func wrongHash(p Part) (string, error) {
	rc, err := p.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha512.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	h.Write([]byte{0})
	return hex.EncodeToString(h.Sum(nil)), nil
}

type upload struct {
	id   string
	att  Attachment
	hash string
	size int64
}

// Send sends sub and returns what was sent. Errors name the step that failed and, for HTTP
// failures, the status and problem detail.
func (s *Sender) Send(ctx context.Context, sub Submission) (Result, error) {
	res := Result{DestinationID: sub.DestinationID, Break: sub.Break}
	if err := sub.validate(); err != nil {
		return res, fmt.Errorf("sender: submission: %w", err)
	}
	var err error
	if sub.Data, err = dataToSend(sub); err != nil {
		return res, err
	}
	dataHash, dataSize, err := hashPart(sub.Data)
	if err != nil {
		return res, fmt.Errorf("sender: read data: %w", err)
	}
	res.Hashes = Hashes{Data: dataHash, Attachments: map[string]string{}}
	if sub.Break == BreakCiphertext && dataSize == 0 {
		return res, errors.New("sender: BreakCiphertext needs non-empty data to alter")
	}

	var uploads []upload
	for i, a := range sub.Attachments {
		h, n, err := hashPart(a.Part)
		if err != nil {
			return res, fmt.Errorf("sender: read attachment %d (%s): %w", i, a.Filename, err)
		}
		uploads = append(uploads, upload{id: uuid.NewString(), att: a, hash: h, size: n})
	}
	listed := uploads // what the metadata lists
	switch sub.Break {
	case BreakAttachmentExtra:
		extra := syntheticAttachment("nachgereicht.txt", "Anlage, die in den Metadaten fehlt")
		h, n, _ := hashPart(extra.Part)
		u := upload{id: uuid.NewString(), att: extra, hash: h, size: n}
		uploads = append(append([]upload(nil), uploads...), u)
		res.ExtraAttachmentID = u.id
	case BreakAttachmentMissing:
		ghost := syntheticAttachment("nicht-uebermittelt.txt", "Anlage, die nur in den Metadaten steht")
		h, n, _ := hashPart(ghost.Part)
		u := upload{id: uuid.NewString(), att: ghost, hash: h, size: n}
		listed = append(append([]upload(nil), uploads...), u)
		res.MetadataOnlyAttachmentID = u.id
	}

	var dest destination
	if err := s.getJSON(ctx, "get destination", "/v1/destinations/"+url.PathEscape(sub.DestinationID), &dest); err != nil {
		return res, err
	}
	if dest.EncryptionKid == "" {
		return res, fmt.Errorf("sender: get destination: destination %s names no encryptionKid", sub.DestinationID)
	}
	var k jwk
	if err := s.getJSON(ctx, "get encryption key", "/v1/destinations/"+url.PathEscape(sub.DestinationID)+"/keys/"+url.PathEscape(dest.EncryptionKid), &k); err != nil {
		return res, err
	}
	key, err := encryptionKey(k, dest.EncryptionKid, s.minKeyBits)
	if err != nil {
		return res, fmt.Errorf("sender: get encryption key: key %q of destination %s: %w", dest.EncryptionKid, sub.DestinationID, err)
	}

	// create
	create := map[string]any{
		"destinationId":        sub.DestinationID,
		"announcedAttachments": ids(uploads),
		"serviceType":          serviceJSON(sub.ServiceType),
	}
	if sub.CaseID != "" {
		create["caseId"] = sub.CaseID
	}
	if sub.Callback != nil {
		create["callback"] = map[string]string{"url": sub.Callback.URL, "secret": sub.Callback.Secret}
	}
	body, _ := json.Marshal(create)
	var created struct {
		DestinationID string `json:"destinationId"`
		SubmissionID  string `json:"submissionId"`
		CaseID        string `json:"caseId"`
	}
	if err := s.send(ctx, "create submission", http.MethodPost, "/v1/submissions", mimeJSON, bytes.NewReader(body), int64(len(body)), http.StatusCreated, &created); err != nil {
		return res, err
	}
	if err := checkUUID("submissionId", created.SubmissionID); err != nil {
		return res, fmt.Errorf("sender: create submission: response %w", err)
	}
	res.SubmissionID, res.CaseID = created.SubmissionID, created.CaseID
	subPath := "/v1/submissions/" + url.PathEscape(created.SubmissionID)

	// attachments
	res.AuthenticationTags.Attachments = map[string]string{}
	for _, u := range uploads {
		step := fmt.Sprintf("upload attachment %s (%s)", u.id, u.att.Filename)
		hdr := jwe.Header{Kid: dest.EncryptionKid, Cty: u.att.MimeType}
		tag, err := s.streamJWE(ctx, step, http.MethodPut, subPath+"/attachments/"+u.id, mimeJOSE, nil, nil, u.att.Part, u.size, u.hash, key, hdr, -1, http.StatusNoContent)
		if err != nil {
			return res, err
		}
		res.AttachmentIDs = append(res.AttachmentIDs, u.id)
		res.AuthenticationTags.Attachments[u.id] = tag
		res.Hashes.Attachments[u.id] = u.hash
	}

	// metadata
	md, err := s.metadata(sub, &dest, dataHash, listed)
	if err != nil {
		return res, fmt.Errorf("sender: build metadata: %w", err)
	}
	res.MetadataJSON = md
	var encMeta bytes.Buffer
	mres, err := jwe.Encrypt(&encMeta, bytes.NewReader(md), key, jwe.Header{Kid: dest.EncryptionKid, Cty: mimeJSON})
	if err != nil {
		return res, fmt.Errorf("sender: encrypt metadata: %w", err)
	}
	res.AuthenticationTags.Metadata = mres.AuthenticationTag

	// data, streamed inside the submit JSON
	dataKey := key
	if sub.Break == BreakWrongKey {
		if dataKey, err = s.otherKey(); err != nil {
			return res, fmt.Errorf("sender: key for BreakWrongKey: %w", err)
		}
	}
	tamperAt := int64(-1)
	dataHdr := jwe.Header{Kid: dest.EncryptionKid, Cty: sub.Data.MimeType}
	if sub.Break == BreakCiphertext {
		empty, err := jwe.EncryptedLen(0, dataKey, dataHdr)
		if err != nil {
			return res, fmt.Errorf("sender: encrypt data: %w", err)
		}
		tamperAt = empty - int64(len(".")+22) // first character of the ciphertext segment
	}
	prefix := []byte(`{"encryptedMetadata":"` + encMeta.String() + `","encryptedData":"`)
	suffix := []byte(`"}`)
	var submitted struct {
		SubmissionID string   `json:"submissionId"`
		CaseID       string   `json:"caseId"`
		Attachments  []string `json:"attachments"`
	}
	tag, err := s.streamJWE(ctx, "submit submission", http.MethodPut, subPath, mimeJSON, prefix, suffix, sub.Data, dataSize, dataHash, dataKey, dataHdr, tamperAt, http.StatusAccepted, &submitted)
	if err != nil {
		return res, err
	}
	res.AuthenticationTags.Data = tag
	if res.CaseID == "" {
		res.CaseID = submitted.CaseID
	}
	return res, nil
}

func ids(us []upload) []string {
	out := make([]string, 0, len(us))
	for _, u := range us {
		out = append(out, u.id)
	}
	return out
}

func serviceJSON(s ServiceType) map[string]string {
	m := map[string]string{"name": s.Name, "identifier": s.Identifier}
	if s.Description != "" {
		m["description"] = s.Description
	}
	return m
}

func syntheticAttachment(filename, text string) Attachment {
	return Attachment{Part: Bytes("text/plain", []byte(text+"\n")), Filename: filename, Purpose: "attachment", Description: text}
}

func (s *Sender) otherKey() (*rsa.PublicKey, error) {
	if s.wrongKey != nil {
		return s.wrongKey, nil
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &k.PublicKey, nil
}

func (s *Sender) metadata(sub Submission, dest *destination, dataHash string, listed []upload) ([]byte, error) {
	m := metadata{Schema: MetadataSchemaURI}
	m.ContentStructure.Data = dataStructure{
		Hash:             hashValue{Type: "sha512", Content: dataHash},
		SubmissionSchema: submissionSchema{SchemaURI: sub.DataSchema.URI, MimeType: sub.DataSchema.MimeType},
	}
	m.ContentStructure.Attachments = []attachmentMeta{}
	for _, u := range listed {
		m.ContentStructure.Attachments = append(m.ContentStructure.Attachments, attachmentMeta{
			AttachmentID: u.id, Hash: hashValue{Type: "sha512", Content: u.hash}, Purpose: u.att.Purpose,
			MimeType: u.att.MimeType, Filename: u.att.Filename, Description: u.att.Description,
		})
	}
	ps := sub.ServiceType
	if sub.PublicService != nil {
		ps = *sub.PublicService
	}
	m.PublicServiceType = &publicService{Identifier: ps.Identifier, Name: ps.Name, Description: ps.Description}
	var err error
	if m.PaymentInformation, err = paymentMetadata(sub.Payment); err != nil {
		return nil, err
	}
	if m.ReplyChannel, err = replyChannelMetadata(sub.ReplyChannel); err != nil {
		return nil, err
	}
	m.AdditionalReferenceInfo = referenceMetadata(sub.Reference)

	switch sub.Break {
	case BreakDataHash:
		if m.ContentStructure.Data.Hash.Content, err = wrongHash(sub.Data); err != nil {
			return nil, fmt.Errorf("read data: %w", err)
		}
	case BreakAttachmentHash:
		if m.ContentStructure.Attachments[0].Hash.Content, err = wrongHash(listed[0].att.Part); err != nil {
			return nil, fmt.Errorf("read attachment: %w", err)
		}
	case BreakMetadataSchema:
		m.ReplyChannel = map[string]any{}
	case BreakSchemaURI:
		m.ContentStructure.Data.SubmissionSchema.SchemaURI = UnsupportedSchemaURI
	case BreakMetadataVersion:
		m.Schema = UnsupportedMetadataSchemaURI
	case BreakServiceType:
		id := UnservedServiceIdentifier
		for dest.serves(id) {
			id += "9"
		}
		m.PublicServiceType = &publicService{Identifier: id, Name: "Nicht angebotene Leistung"}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// verifyingReader hashes and counts what it passes on, so the encrypt pass can prove it saw the
// same content as the hash pass.
type verifyingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	return n, err
}

// tamperWriter alters the byte at offset at (counted from its first byte) to another base64url
// character.
type tamperWriter struct {
	w   io.Writer
	at  int64
	off int64
}

func (t *tamperWriter) Write(p []byte) (int, error) {
	if t.at >= t.off && t.at < t.off+int64(len(p)) {
		q := append([]byte(nil), p...)
		i := t.at - t.off
		if q[i] == 'A' {
			q[i] = 'B'
		} else {
			q[i] = 'A'
		}
		p = q
	}
	n, err := t.w.Write(p)
	t.off += int64(n)
	return n, err
}

var errRequestEnded = errors.New("request ended before the body was sent")

// streamJWE sends prefix, the compact JWE of part, and suffix as one request body of known
// length, and returns the JWE's authentication tag.
func (s *Sender) streamJWE(ctx context.Context, step, method, path, contentType string, prefix, suffix []byte,
	part Part, size int64, wantHash string, key *rsa.PublicKey, hdr jwe.Header, tamperAt int64, want int, v ...any) (string, error) {
	jweLen, err := jwe.EncryptedLen(size, key, hdr)
	if err != nil {
		return "", fmt.Errorf("sender: %s: %w", step, err)
	}
	rc, err := part.Open()
	if err != nil {
		return "", fmt.Errorf("sender: %s: open content: %w", step, err)
	}
	defer rc.Close()

	pr, pw := io.Pipe()
	type outcome struct {
		tag string
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() { pw.CloseWithError(o.err); done <- o }()
		if _, o.err = pw.Write(prefix); o.err != nil {
			return
		}
		var w io.Writer = pw
		if tamperAt >= 0 {
			w = &tamperWriter{w: pw, at: tamperAt}
		}
		vr := &verifyingReader{r: rc, h: sha512.New()}
		r, err := jwe.Encrypt(w, vr, key, hdr)
		if err != nil {
			o.err = fmt.Errorf("sender: %s: %w", step, err)
			return
		}
		if got := hex.EncodeToString(vr.h.Sum(nil)); vr.n != size || got != wantHash {
			o.err = fmt.Errorf("sender: %s: content changed between hash and encrypt pass (%d bytes, then %d)", step, size, vr.n)
			return
		}
		o.tag = r.AuthenticationTag
		_, o.err = pw.Write(suffix)
	}()
	var out any
	if len(v) > 0 {
		out = v[0]
	}
	sendErr := s.send(ctx, step, method, path, contentType, pr, int64(len(prefix))+jweLen+int64(len(suffix)), want, out)
	pr.CloseWithError(errRequestEnded)
	o := <-done
	if o.err != nil && !errors.Is(o.err, errRequestEnded) {
		return "", o.err
	}
	if sendErr != nil {
		return "", sendErr
	}
	return o.tag, nil
}
