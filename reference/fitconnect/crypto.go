package fitconnect

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/konform/konform/jose/jwe"
)

// Event URIs of the FIT-Connect event log.
const (
	EventPrefix           = "https://schema.fitko.de/fit-connect/events/"
	EventCreateSubmission = EventPrefix + "create-submission"
	EventSubmitSubmission = EventPrefix + "submit-submission"
	EventNotifySubmission = EventPrefix + "notify-submission"
	EventDeleteSubmission = EventPrefix + "delete-submission"
	EventAcceptSubmission = EventPrefix + "accept-submission"
	EventRejectSubmission = EventPrefix + "reject-submission"
	SETPayloadSchema      = "https://schema.fitko.de/fit-connect/set-payload/1.0.0/set-payload.schema.json"
	ProblemPrefix         = EventPrefix + "problems/"
)

// ParseJWK parses a private JWK and checks it is an RSA private key with the expected alg.
func ParseJWK(raw, wantAlg string) (*jose.JSONWebKey, error) {
	var k jose.JSONWebKey
	if err := json.Unmarshal([]byte(raw), &k); err != nil {
		return nil, fmt.Errorf("not a JWK: %w", err)
	}
	priv, ok := k.Key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA private key")
	}
	// Parsed from JSON the key has no precomputed values; every private operation would
	// recompute them.
	priv.Precompute()
	if k.Algorithm != wantAlg {
		return nil, fmt.Errorf("alg is %q, want %q", k.Algorithm, wantAlg)
	}
	if k.KeyID == "" {
		return nil, errors.New("kid missing")
	}
	return &k, nil
}

// AuthTag returns the authentication tag (the fifth segment) of a JWE in compact form.
func AuthTag(compact string) string {
	i := strings.LastIndexByte(compact, '.')
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(compact[i+1:])
}

// DecryptError says why a JWE could not be decrypted.
type DecryptError struct{ Reason string }

func (e *DecryptError) Error() string { return e.Reason }

// zipRefused is the one rule for a JWE header zip, the same for metadata, data and attachments:
// a compressed plaintext is refused before anything is decrypted or inflated. RFC 8725 §3.6 (the
// JWT BCP the Submission API names for its OAuth2 scheme): "Compression of data SHOULD NOT be
// done before encryption"; FIT-Connect's JWE profile (RSA-OAEP-256, A256GCM, cty, kid;
// shared/domain fit-connect.md §4) has no zip, and no FIT-Connect document allows it
// (fit-connect-rules-check.md §3). DecryptStream gets the same rule from jose/jwe.
const zipRefused = "JWE header zip (compressed plaintext) is refused: compression before encryption SHOULD NOT be used (RFC 8725 §3.6)"

// Decrypt decrypts a JWE compact serialisation with key: alg must be RSA-OAEP-256, enc
// A256GCM, no zip, and the header's kid must name key.
func Decrypt(compact string, key *jose.JSONWebKey) ([]byte, error) {
	obj, err := jose.ParseEncryptedCompact(strings.TrimSpace(compact), []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, &DecryptError{Reason: "JWE not parseable or wrong alg/enc (want RSA-OAEP-256/A256GCM): " + err.Error()}
	}
	if _, zip := obj.Header.ExtraHeaders["zip"]; zip {
		return nil, &DecryptError{Reason: zipRefused}
	}
	if obj.Header.KeyID != key.KeyID {
		return nil, &DecryptError{Reason: fmt.Sprintf("JWE kid %q is not the destination's encryption key %q", obj.Header.KeyID, key.KeyID)}
	}
	plain, err := obj.Decrypt(key)
	if err != nil {
		return nil, &DecryptError{Reason: "JWE decryption failed: " + err.Error()}
	}
	return plain, nil
}

// DecryptStream reads a JWE compact serialisation from r and writes the plaintext to w as it
// decrypts (large attachments never sit in memory). It returns the authentication tag. On an
// error w may hold unauthenticated plaintext, which the caller must discard.
func DecryptStream(r io.Reader, w io.Writer, key *jose.JSONWebKey) (tag string, err error) {
	priv, ok := key.Key.(*rsa.PrivateKey)
	if !ok {
		return "", &DecryptError{Reason: "decryption key is not an RSA private key"}
	}
	res, err := jwe.Decrypt(w, r, priv)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return "", err
		}
		if errors.Is(err, jwe.ErrUnsupported) && strings.Contains(err.Error(), "zip") {
			return "", &DecryptError{Reason: zipRefused}
		}
		return "", &DecryptError{Reason: "JWE decryption failed: " + err.Error()}
	}
	if res.Kid != key.KeyID {
		return "", &DecryptError{Reason: fmt.Sprintf("JWE kid %q is not the destination's encryption key %q", res.Kid, key.KeyID)}
	}
	return res.AuthenticationTag, nil
}

// SET is the payload of a Security Event Token of the event log.
type SET struct {
	Schema string                     `json:"$schema,omitempty"`
	JTI    string                     `json:"jti"`
	Iss    string                     `json:"iss"`
	Iat    int64                      `json:"iat"`
	Sub    string                     `json:"sub"`
	Txn    string                     `json:"txn"`
	Events map[string]json.RawMessage `json:"events"`
}

// Event returns the single event URI of the SET ("" when there is not exactly one).
func (s SET) Event() string {
	if len(s.Events) != 1 {
		return ""
	}
	for k := range s.Events {
		return k
	}
	return ""
}

// TagsPayload is the event payload of submit-submission and accept-submission (SET payload
// schema 1.0.0): the tags sit under "authenticationTags".
type TagsPayload struct {
	AuthenticationTags *AuthenticationTags `json:"authenticationTags"`
}

// AuthenticationTags are the fifth segments of the JWEs of a submission.
type AuthenticationTags struct {
	Metadata    string            `json:"metadata"`
	Data        string            `json:"data,omitempty"`
	Attachments map[string]string `json:"attachments,omitempty"`
}

// ProblemEntry is one problem of a reject-submission event.
type ProblemEntry struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance"`
}

// SignEvent builds and signs (PS512, typ secevent+jwt) a SET about a submission.
func SignEvent(key *jose.JSONWebKey, issuer, submissionID, caseID, event string, payload any, now time.Time) (string, error) {
	p, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	set := SET{Schema: SETPayloadSchema, JTI: uuid.NewString(), Iss: issuer, Iat: now.Unix(),
		Sub: "submission:" + submissionID, Txn: "case:" + caseID, Events: map[string]json.RawMessage{event: p}}
	body, err := json.Marshal(set)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType("secevent+jwt").WithHeader("kid", key.KeyID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS512, Key: key.Key}, opts)
	if err != nil {
		return "", fmt.Errorf("SET signer: %w", err)
	}
	jws, err := signer.Sign(body)
	if err != nil {
		return "", fmt.Errorf("sign SET: %w", err)
	}
	return jws.CompactSerialize()
}

// ParseEvent reads a SET without verifying its signature.
func ParseEvent(compact string) (SET, *jose.JSONWebSignature, error) {
	jws, err := jose.ParseSignedCompact(strings.TrimSpace(compact), []jose.SignatureAlgorithm{jose.PS512})
	if err != nil {
		return SET{}, nil, fmt.Errorf("SET not parseable as PS512 JWS: %w", err)
	}
	var set SET
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &set); err != nil {
		return SET{}, nil, fmt.Errorf("SET payload: %w", err)
	}
	return set, jws, nil
}

// VerifyEvent checks the SET's header (typ secevent+jwt, kid) and its PS512 signature with
// the key of keys named by kid.
func VerifyEvent(jws *jose.JSONWebSignature, keys jose.JSONWebKeySet) error {
	if len(jws.Signatures) != 1 {
		return errors.New("SET must carry exactly one signature")
	}
	h := jws.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "secevent+jwt" {
		return fmt.Errorf("SET typ is %q, want secevent+jwt", typ)
	}
	if h.KeyID == "" {
		return errors.New("SET header without kid")
	}
	found := keys.Key(h.KeyID)
	if len(found) == 0 {
		return fmt.Errorf("SET kid %q is not a key of the delivery service", h.KeyID)
	}
	for _, k := range found {
		if _, err := jws.Verify(k.Public()); err == nil {
			return nil
		}
	}
	return fmt.Errorf("SET signature does not verify with key %q", h.KeyID)
}
