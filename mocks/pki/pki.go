// Package pki makes the RSA key pairs FIT-Connect demands, as JSON Web Keys with a freshly
// issued, self-signed X.509 chain in x5c: one root CA certificate per key and a leaf
// certificate for the key itself. The chain is for tests only; it is not a Verwaltungs-PKI
// chain, so a receiver has to allow self-signed test keys (as the FIT-Connect SDKs offer).
package pki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Algorithms and key operations FIT-Connect uses.
const (
	AlgEncryption = "RSA-OAEP-256"
	AlgSigning    = "PS512"
	DefaultBits   = 4096
)

// Key is one RSA key pair with its JWK forms. JSONWebKey has no field for key_ops, so the
// operations are kept beside it and written by PublicJSON and PrivateJSON.
type Key struct {
	Private *rsa.PrivateKey
	// JWK is the private key (kid, alg, x5c set).
	JWK jose.JSONWebKey
	// Public is the public key with its x5c chain (leaf first, root last).
	Public jose.JSONWebKey
	// PublicOps and PrivateOps are the key_ops of the two halves.
	PublicOps  []string
	PrivateOps []string
	// Chain is the certificate chain in x5c order: leaf, root.
	Chain []*x509.Certificate
}

type config struct {
	bits     int
	validFor time.Duration
	now      func() time.Time
}

// Option tunes key generation.
type Option func(*config)

// WithBits sets the RSA modulus size. FIT-Connect demands 4096 (the default); tests may use
// 2048 for speed. Sizes below 2048 are refused.
func WithBits(n int) Option { return func(c *config) { c.bits = n } }

// WithValidity sets how long the certificates are valid from now (default one year).
func WithValidity(d time.Duration) Option { return func(c *config) { c.validFor = d } }

// WithClock sets the time the certificates are issued at.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// NewEncryptionKey makes a key for JWE key wrapping: alg RSA-OAEP-256, public key_ops
// ["wrapKey"], private key_ops ["unwrapKey"].
func NewEncryptionKey(kid string, opts ...Option) (*Key, error) {
	return newKey(kid, AlgEncryption, "enc", []string{"wrapKey"}, []string{"unwrapKey"}, opts)
}

// NewSigningKey makes a key for SET signatures: alg PS512, public key_ops ["verify"],
// private key_ops ["sign"].
func NewSigningKey(kid string, opts ...Option) (*Key, error) {
	return newKey(kid, AlgSigning, "sig", []string{"verify"}, []string{"sign"}, opts)
}

func newKey(kid, alg, use string, pubOps, privOps []string, opts []Option) (*Key, error) {
	cfg := config{bits: DefaultBits, validFor: 365 * 24 * time.Hour, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.bits < 2048 {
		return nil, fmt.Errorf("pki: %d-bit RSA keys are too weak (minimum 2048, FIT-Connect demands 4096)", cfg.bits)
	}
	if len(kid) < 8 || len(kid) > 64 {
		return nil, fmt.Errorf("pki: kid %q must be 8 to 64 characters long", kid)
	}

	// The root and the leaf key are independent; generate them side by side.
	type result struct {
		k   *rsa.PrivateKey
		err error
	}
	rootCh := make(chan result, 1)
	go func() {
		k, err := rsa.GenerateKey(rand.Reader, cfg.bits)
		rootCh <- result{k, err}
	}()
	leaf, err := rsa.GenerateKey(rand.Reader, cfg.bits)
	root := <-rootCh
	if err != nil {
		return nil, fmt.Errorf("pki: generating %d-bit key: %w", cfg.bits, err)
	}
	if root.err != nil {
		return nil, fmt.Errorf("pki: generating %d-bit root CA key: %w", cfg.bits, root.err)
	}

	chain, err := issueChain(kid, leaf, root.k, use, cfg)
	if err != nil {
		return nil, err
	}
	k := &Key{
		Private:    leaf,
		JWK:        jose.JSONWebKey{Key: leaf, KeyID: kid, Algorithm: alg, Certificates: chain},
		Public:     jose.JSONWebKey{Key: &leaf.PublicKey, KeyID: kid, Algorithm: alg, Certificates: chain},
		PublicOps:  pubOps,
		PrivateOps: privOps,
		Chain:      chain,
	}
	return k, nil
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func issueChain(kid string, leaf, root *rsa.PrivateKey, use string, cfg config) ([]*x509.Certificate, error) {
	now := cfg.now().UTC()
	rootSerial, err := serial()
	if err != nil {
		return nil, fmt.Errorf("pki: serial number: %w", err)
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          rootSerial,
		Subject:               pkix.Name{CommonName: "Konform Test Root CA " + kid, Organization: []string{"Konform"}, Country: []string{"DE"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(cfg.validFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SignatureAlgorithm:    x509.SHA512WithRSAPSS,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &root.PublicKey, root)
	if err != nil {
		return nil, fmt.Errorf("pki: issuing root CA certificate: %w", err)
	}
	rootCert, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing root CA certificate: %w", err)
	}

	leafSerial, err := serial()
	if err != nil {
		return nil, fmt.Errorf("pki: serial number: %w", err)
	}
	usage := x509.KeyUsageDigitalSignature
	if use == "enc" {
		usage = x509.KeyUsageKeyEncipherment
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:       leafSerial,
		Subject:            pkix.Name{CommonName: kid, Organization: []string{"Konform"}, Country: []string{"DE"}},
		NotBefore:          now.Add(-time.Hour),
		NotAfter:           now.Add(cfg.validFor),
		KeyUsage:           usage,
		SignatureAlgorithm: x509.SHA512WithRSAPSS,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, rootCert, &leaf.PublicKey, root)
	if err != nil {
		return nil, fmt.Errorf("pki: issuing leaf certificate: %w", err)
	}
	leafCert, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing leaf certificate: %w", err)
	}
	return []*x509.Certificate{leafCert, rootCert}, nil
}

// PublicJSON is the public JWK as FIT-Connect expects it: kty, kid, alg, key_ops, x5c, n, e.
func (k *Key) PublicJSON() ([]byte, error) { return MarshalJWK(k.Public, k.PublicOps) }

// PrivateJSON is the private JWK with its key_ops, as handed to the application under test.
func (k *Key) PrivateJSON() ([]byte, error) { return MarshalJWK(k.JWK, k.PrivateOps) }

// MarshalJWK writes jwk as JSON with the given key_ops added (go-jose has no field for them).
func MarshalJWK(jwk jose.JSONWebKey, keyOps []string) ([]byte, error) {
	raw, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("pki: marshalling JWK %q: %w", jwk.KeyID, err)
	}
	if len(keyOps) == 0 {
		return raw, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("pki: re-reading JWK %q: %w", jwk.KeyID, err)
	}
	m["key_ops"] = keyOps
	return json.Marshal(m)
}

// KeyOpsFor returns the key_ops FIT-Connect attaches to a public key of the given alg.
func KeyOpsFor(alg string) ([]string, error) {
	switch alg {
	case AlgSigning:
		return []string{"verify"}, nil
	case AlgEncryption:
		return []string{"wrapKey"}, nil
	}
	return nil, errors.New("pki: unknown key algorithm " + alg + " (FIT-Connect uses PS512 and RSA-OAEP-256)")
}

// VerifyChain checks that the x5c chain of jwk is a leaf issued by the root that follows it
// and that the leaf certifies the JWK's own public key.
func VerifyChain(jwk jose.JSONWebKey) error {
	if len(jwk.Certificates) < 2 {
		return fmt.Errorf("pki: JWK %q: x5c holds %d certificates, want leaf and root", jwk.KeyID, len(jwk.Certificates))
	}
	roots := x509.NewCertPool()
	root := jwk.Certificates[len(jwk.Certificates)-1]
	roots.AddCert(root)
	inter := x509.NewCertPool()
	for _, c := range jwk.Certificates[1 : len(jwk.Certificates)-1] {
		inter.AddCert(c)
	}
	if _, err := jwk.Certificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return fmt.Errorf("pki: JWK %q: x5c chain does not verify: %w", jwk.KeyID, err)
	}
	pub, ok := jwk.Key.(*rsa.PublicKey)
	if priv, isPriv := jwk.Key.(*rsa.PrivateKey); isPriv {
		pub, ok = &priv.PublicKey, true
	}
	if !ok {
		return fmt.Errorf("pki: JWK %q is not an RSA key", jwk.KeyID)
	}
	if !pub.Equal(jwk.Certificates[0].PublicKey) {
		return fmt.Errorf("pki: JWK %q: leaf certificate does not certify the key", jwk.KeyID)
	}
	return nil
}

// KeyFromJWK rebuilds a Key from its private JWK (as JWK.MarshalJSON writes it: kid, alg, x5c),
// with the key_ops FIT-Connect attaches to its alg. The private key is precomputed once, which a
// key read from JSON otherwise is not.
func KeyFromJWK(raw []byte) (*Key, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("pki: not a JWK: %w", err)
	}
	priv, ok := jwk.Key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("pki: JWK %q is not a private RSA key", jwk.KeyID)
	}
	if len(jwk.KeyID) < 8 || len(jwk.KeyID) > 64 {
		return nil, fmt.Errorf("pki: kid %q must be 8 to 64 characters long", jwk.KeyID)
	}
	var pubOps, privOps []string
	switch jwk.Algorithm {
	case AlgSigning:
		pubOps, privOps = []string{"verify"}, []string{"sign"}
	case AlgEncryption:
		pubOps, privOps = []string{"wrapKey"}, []string{"unwrapKey"}
	default:
		return nil, fmt.Errorf("pki: JWK %q: alg %q (FIT-Connect uses %s and %s)", jwk.KeyID, jwk.Algorithm, AlgSigning, AlgEncryption)
	}
	priv.Precompute()
	return &Key{Private: priv, JWK: jwk, Public: jwk.Public(), PublicOps: pubOps, PrivateOps: privOps, Chain: jwk.Certificates}, nil
}
