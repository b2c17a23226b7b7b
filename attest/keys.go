package attest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Key algorithms.
const (
	Ed25519   = "ed25519"
	ECDSAP256 = "ecdsa-p256"
)

// File names GenerateKeys writes.
const (
	PrivateKeyFile = "konform.key"
	PublicKeyFile  = "konform.pub"
)

// PEM block types: PKCS #8 private keys, PKIX public keys.
const (
	pemPrivate = "PRIVATE KEY"
	pemPublic  = "PUBLIC KEY"
)

// GenerateKeys makes a key pair of alg (Ed25519 or ECDSAP256) and writes the private key to
// dir/konform.key (PKCS #8 PEM, mode 0600) and the public key to dir/konform.pub (PKIX PEM). It
// creates dir and refuses to overwrite either file.
func GenerateKeys(dir, alg string) (privPath, pubPath string, err error) {
	var priv crypto.Signer
	switch alg {
	case Ed25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case ECDSAP256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return "", "", fmt.Errorf("unknown key algorithm %q: use %s or %s", alg, Ed25519, ECDSAP256)
	}
	if err != nil {
		return "", "", fmt.Errorf("generating a %s key: %w", alg, err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", fmt.Errorf("encoding the private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return "", "", fmt.Errorf("encoding the public key: %w", err)
	}
	privPath, pubPath = filepath.Join(dir, PrivateKeyFile), filepath.Join(dir, PublicKeyFile)
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("%s exists: remove it or choose another folder; keys are never overwritten", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("creating the key folder: %w", err)
	}
	if err := writeNew(privPath, pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: privDER}), 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: pubDER}), 0o644); err != nil {
		_ = os.Remove(privPath)
		return "", "", err
	}
	return privPath, pubPath, nil
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("writing the key: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("writing the key: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing the key: %w", err)
	}
	return nil
}

// ParsePrivateKey reads a PKCS #8 PEM private key ("PRIVATE KEY"), Ed25519 or ECDSA P-256.
func ParsePrivateKey(pemBytes []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("not a PEM file: expected a PKCS #8 private key (-----BEGIN PRIVATE KEY-----)")
	}
	if b.Type != pemPrivate {
		return nil, fmt.Errorf("the PEM block is a %q, not a PKCS #8 private key (\"PRIVATE KEY\")", b.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS #8 private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T: use an Ed25519 or ECDSA P-256 key", k)
	}
	if err := supported(s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadPrivateKey reads a private key file (ParsePrivateKey).
func LoadPrivateKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the signing key: %w", err)
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ParsePublicKey reads a PKIX PEM public key ("PUBLIC KEY"), Ed25519 or ECDSA P-256.
func ParsePublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("not a PEM file: expected a public key (-----BEGIN PUBLIC KEY-----)")
	}
	if b.Type != pemPublic {
		return nil, fmt.Errorf("the PEM block is a %q, not a public key (\"PUBLIC KEY\")", b.Type)
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKIX public key: %w", err)
	}
	if err := supported(k); err != nil {
		return nil, err
	}
	return k, nil
}

func supported(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return nil
		}
		return fmt.Errorf("unsupported ECDSA curve %s: use P-256", k.Curve.Params().Name)
	}
	return fmt.Errorf("unsupported key type %T: use an Ed25519 or ECDSA P-256 key", pub)
}

// KeyID is the hex SHA-256 of the public key's PKIX DER encoding: the keyid of the envelope's
// signature.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding the public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// signerVerifier adapts a key to DSSE's Signer and Verifier: Ed25519 signs the PAE itself,
// ECDSA P-256 its SHA-256 (ASN.1 DER signature), as go-securesystemslib's signerverifier does.
type signerVerifier struct {
	priv  crypto.Signer // nil for verifying only
	pub   crypto.PublicKey
	keyID string
}

func newSignerVerifier(priv crypto.Signer, pub crypto.PublicKey) (*signerVerifier, error) {
	if priv != nil {
		pub = priv.Public()
	}
	if err := supported(pub); err != nil {
		return nil, err
	}
	id, err := KeyID(pub)
	if err != nil {
		return nil, err
	}
	return &signerVerifier{priv: priv, pub: pub, keyID: id}, nil
}

func (sv *signerVerifier) Sign(_ context.Context, data []byte) ([]byte, error) {
	if sv.priv == nil {
		return nil, errors.New("no private key")
	}
	switch sv.pub.(type) {
	case ed25519.PublicKey:
		return sv.priv.Sign(rand.Reader, data, crypto.Hash(0))
	case *ecdsa.PublicKey:
		sum := sha256.Sum256(data)
		return sv.priv.Sign(rand.Reader, sum[:], crypto.SHA256)
	}
	return nil, fmt.Errorf("unsupported key type %T", sv.pub)
}

var errBadSignature = errors.New("the signature does not match")

func (sv *signerVerifier) Verify(_ context.Context, data, sig []byte) error {
	switch k := sv.pub.(type) {
	case ed25519.PublicKey:
		if ed25519.Verify(k, data, sig) {
			return nil
		}
	case *ecdsa.PublicKey:
		sum := sha256.Sum256(data)
		if ecdsa.VerifyASN1(k, sum[:], sig) {
			return nil
		}
	}
	return errBadSignature
}

func (sv *signerVerifier) KeyID() (string, error) { return sv.keyID, nil }

func (sv *signerVerifier) Public() crypto.PublicKey { return sv.pub }
