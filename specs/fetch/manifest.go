// Package fetch downloads the official schemas a run needs from the URLs of a manifest, checks
// every byte against the manifest's SHA-256 pins before placing it, and lays the files out as
// --schemas expects. The built-in manifest is embedded; a vendor's own mirror manifest has the
// same format.
package fetch

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// RecordFile is the record fetch writes into the folder it fills.
const RecordFile = "konform-schemas.json"

//go:embed manifest.json
var builtIn []byte

// Manifest lists where the official schema files come from and what their bytes must be.
type Manifest struct {
	Entries []Entry `yaml:"entries" json:"entries"`

	// digest is the SHA-256 of the manifest's own bytes, for the record.
	digest string
}

// Entry is one download: a single file placed at Path, or an archive whose members are placed
// by Files (from → to) or, with Strip, every regular file below that prefix, under Path.
type Entry struct {
	Name      string   `yaml:"name" json:"name"`
	URL       string   `yaml:"url" json:"url"`
	SHA256    string   `yaml:"sha256" json:"sha256"`
	Path      string   `yaml:"path,omitempty" json:"path,omitempty"`
	Archive   bool     `yaml:"archive,omitempty" json:"archive,omitempty"`
	Files     []Member `yaml:"files,omitempty" json:"files,omitempty"`
	Strip     *string  `yaml:"strip,omitempty" json:"strip,omitempty"`
	Publisher string   `yaml:"publisher" json:"publisher"`
	Source    string   `yaml:"source" json:"source"`
	Confirmed bool     `yaml:"confirmed" json:"confirmed"`
	Note      string   `yaml:"note,omitempty" json:"note,omitempty"`
}

// Member is one file taken out of an archive; SHA256, when given, pins it too.
type Member struct {
	From   string `yaml:"from" json:"from"`
	To     string `yaml:"to" json:"to"`
	SHA256 string `yaml:"sha256,omitempty" json:"sha256,omitempty"`
}

// ManifestError is a manifest that cannot be used: bad syntax or a bad entry.
type ManifestError struct{ Problem string }

func (e *ManifestError) Error() string { return "manifest: " + e.Problem }

// BuiltIn returns the manifest embedded in the binary.
func BuiltIn() (Manifest, error) { return Parse(builtIn) }

// BuiltInBytes returns the embedded manifest as it is stored.
func BuiltInBytes() []byte { return bytes.Clone(builtIn) }

// Parse reads a manifest in JSON or YAML and checks every entry.
func Parse(data []byte) (Manifest, error) {
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, &ManifestError{fmt.Sprintf("not valid JSON or YAML: %v", err)}
	}
	if err := m.check(); err != nil {
		return Manifest{}, err
	}
	sum := sha256.Sum256(data)
	m.digest = hex.EncodeToString(sum[:])
	return m, nil
}

// Digest is the SHA-256 of the manifest's bytes.
func (m Manifest) Digest() string { return m.digest }

// Destinations lists every path inside the schema folder the manifest names, in order. An
// archive placed by Strip contributes only its folder.
func (m Manifest) Destinations() []string {
	var out []string
	for _, e := range m.Entries {
		switch {
		case !e.Archive:
			out = append(out, e.Path)
		case e.Strip != nil:
			out = append(out, e.Path)
		default:
			for _, f := range e.Files {
				out = append(out, f.To)
			}
		}
	}
	return out
}

func (m Manifest) check() error {
	if len(m.Entries) == 0 {
		return &ManifestError{"no entries"}
	}
	names := map[string]bool{}
	placed := map[string]string{}
	place := func(e Entry, to string) error {
		if other, dup := placed[to]; dup {
			return &ManifestError{fmt.Sprintf("entries %q and %q both place %s", other, e.Name, to)}
		}
		placed[to] = e.Name
		return nil
	}
	for i, e := range m.Entries {
		if e.Name == "" {
			return &ManifestError{fmt.Sprintf("entry %d has no name", i+1)}
		}
		if names[e.Name] {
			return &ManifestError{fmt.Sprintf("two entries are named %q", e.Name)}
		}
		names[e.Name] = true
		if err := e.check(); err != nil {
			return &ManifestError{fmt.Sprintf("entry %q: %v", e.Name, err)}
		}
		if !e.Archive || e.Strip != nil {
			if err := place(e, e.Path); err != nil {
				return err
			}
		}
		for _, f := range e.Files {
			if err := place(e, f.To); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e Entry) check() error {
	if err := checkURL(e.URL); err != nil {
		return err
	}
	if !isDigest(e.SHA256) {
		return fmt.Errorf("sha256 %q is not 64 lowercase hex digits", e.SHA256)
	}
	if e.Publisher == "" || e.Source == "" {
		return errors.New("publisher and source are required")
	}
	if !e.Archive {
		if len(e.Files) > 0 || e.Strip != nil {
			return errors.New("files and strip belong to an archive (archive: true)")
		}
		return checkRel("path", e.Path)
	}
	switch {
	case len(e.Files) > 0 && e.Strip != nil:
		return errors.New("an archive takes files or strip, not both")
	case e.Strip != nil:
		if e.Path == "" {
			return nil // the archive's files land at the folder's top
		}
		return checkRel("path", e.Path)
	case len(e.Files) == 0:
		return errors.New("an archive needs files (from/to) or strip")
	case e.Path != "":
		return errors.New("path of an archive with files: each file names its own to")
	}
	for _, f := range e.Files {
		if f.From == "" {
			return fmt.Errorf("a file with to %q has no from", f.To)
		}
		if err := checkRel("to", f.To); err != nil {
			return err
		}
		if f.SHA256 != "" && !isDigest(f.SHA256) {
			return fmt.Errorf("sha256 %q of %s is not 64 lowercase hex digits", f.SHA256, f.From)
		}
	}
	return nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url %q: %v", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q is not an http or https URL", raw)
	}
	return nil
}

// checkRel accepts a slash-separated path that stays inside the schema folder.
func checkRel(field, p string) error {
	if p == "" {
		return fmt.Errorf("%s is required", field)
	}
	if !isLocal(p) {
		return fmt.Errorf("%s %q leaves the schema folder (absolute, .. or backslash)", field, p)
	}
	if p == RecordFile {
		return fmt.Errorf("%s %q is the record fetch writes", field, p)
	}
	return nil
}

func isLocal(p string) bool {
	return !strings.Contains(p, `\`) && path.Clean(p) == p && filepath.IsLocal(filepath.FromSlash(p))
}

func isDigest(s string) bool {
	if len(s) != 2*sha256.Size || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
