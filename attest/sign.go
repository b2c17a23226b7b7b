package attest

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	ita "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/konform/konform/digest"
)

// AttestationFile is the attestation's name in the report folder: one line, a DSSE envelope.
const AttestationFile = "attestation.intoto.jsonl"

// PayloadType is the DSSE payload type of an in-toto statement.
const PayloadType = "application/vnd.in-toto+json"

// Sign writes dir/attestation.intoto.jsonl: an in-toto Statement v1 with predicate p, whose
// subjects are the SUT (p.SUT.Subject by p.SUT.Digest, unless the SUT is self-declared) and
// every other file below dir (by its slash path relative to dir), in a DSSE envelope signed with
// key (Ed25519 or ECDSA P-256). Sign it last: a file written into dir afterwards fails
// verification.
func Sign(dir string, p Predicate, key crypto.Signer) error {
	sv, err := newSignerVerifier(key, nil)
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	var subjects []*ita.ResourceDescriptor
	if p.SUT.Subject != "" {
		_, h, ok := sutDigest(p.SUT.Digest)
		if !ok {
			return fmt.Errorf("the SUT's digest %q is not sha256:<hex>", p.SUT.Digest)
		}
		subjects = append(subjects, &ita.ResourceDescriptor{Name: p.SUT.Subject, Digest: map[string]string{"sha256": h}})
	}
	path := filepath.Join(dir, AttestationFile)
	tmp := path + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing a stale %s: %w", tmp, err)
	}
	files, err := digestFiles(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		subjects = append(subjects, &ita.ResourceDescriptor{Name: f.Path, Digest: map[string]string{"sha256": f.SHA256}})
	}
	predJSON, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding the predicate: %w", err)
	}
	pred := &structpb.Struct{}
	if err := protojson.Unmarshal(predJSON, pred); err != nil {
		return fmt.Errorf("encoding the predicate: %w", err)
	}
	st := &ita.Statement{Type: ita.StatementTypeUri, Subject: subjects, PredicateType: PredicateType, Predicate: pred}
	if err := st.Validate(); err != nil {
		return fmt.Errorf("the statement is not valid: %w", err)
	}
	payload, err := protojson.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding the statement: %w", err)
	}
	es, err := dsse.NewEnvelopeSigner(sv)
	if err != nil {
		return err
	}
	env, err := es.SignPayload(context.Background(), PayloadType, payload)
	if err != nil {
		return fmt.Errorf("signing the statement: %w", err)
	}
	line, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("encoding the envelope: %w", err)
	}
	if err := os.WriteFile(tmp, append(line, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the attestation: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing the attestation: %w", err)
	}
	return nil
}

// SignWithKeyFile is Sign with the private key in a PEM file (ParsePrivateKey).
func SignWithKeyFile(dir string, p Predicate, keyPath string) error {
	k, err := LoadPrivateKey(keyPath)
	if err != nil {
		return err
	}
	return Sign(dir, p, k)
}

// digestFiles is every regular file below dir but the attestation, in
// lexical order of its slash path. Anything else that is not a folder (a symbolic link, a
// socket) is an error: its content could change without the folder changing.
func digestFiles(dir string) ([]fileDigest, error) {
	var out []fileDigest
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return nil
		case name == AttestationFile:
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file (%s): a report folder holds only files and folders", name, d.Type())
		}
		sum, err := digest.OfFile(path)
		if err != nil {
			return err
		}
		out = append(out, fileDigest{Path: name, SHA256: strings.TrimPrefix(sum, digest.Prefix)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the report folder: %w", err)
	}
	return out, nil
}

type fileDigest struct{ Path, SHA256 string }
