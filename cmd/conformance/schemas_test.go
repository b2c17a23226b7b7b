package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/konform/konform/specs"
	"github.com/konform/konform/specs/fetch"
	"github.com/konform/konform/specs/specstest"
)

func runSchemas(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := mainWithArgs(append([]string{"schemas"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// requiredManifest writes a manifest of the required files, each fetched from mirrorURL, and
// returns its path.
func requiredManifest(t *testing.T, specsDir, mirrorURL string) string {
	t.Helper()
	var m fetch.Manifest
	for _, rel := range specs.Required {
		b, err := os.ReadFile(filepath.Join(specsDir, rel))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		m.Entries = append(m.Entries, fetch.Entry{Name: rel, URL: mirrorURL + "/" + rel, SHA256: hex.EncodeToString(sum[:]),
			Path: rel, Publisher: "test", Source: "test mirror"})
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSchemasFetchFromAMirror(t *testing.T) {
	specsDir := specstest.Dir(t)
	var changed []byte
	const tampered = "/xfinanz-3.1.0/xfinanz-nachricht-kasse-import.xsd"
	files := http.FileServer(http.Dir(specsDir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if changed != nil && r.URL.Path == tampered {
			_, _ = w.Write(changed)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	manifest := requiredManifest(t, specsDir, srv.URL)
	dir := filepath.Join(t.TempDir(), "schemas")

	code, out, stderr := runSchemas("fetch", "--dir", dir, "--manifest", manifest)
	if code != exitPassed {
		t.Fatalf("fetch: exit %d\n%s%s", code, out, stderr)
	}
	if err := specs.CheckLayout(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, fetch.RecordFile)); err != nil {
		t.Fatalf("no record: %v", err)
	}

	var err error
	if changed, err = os.ReadFile(filepath.Join(specsDir, tampered)); err != nil {
		t.Fatal(err)
	}
	changed[0] ^= 0x01
	other := filepath.Join(t.TempDir(), "schemas")
	code, _, stderr = runSchemas("fetch", "--dir", other, "--manifest", manifest)
	if code != exitEnvironment || !strings.Contains(stderr, "xfinanz-nachricht-kasse-import.xsd") || !strings.Contains(stderr, "SHA-256") {
		t.Fatalf("a changed byte: want exit 3 naming the file, got %d %q", code, stderr)
	}
	if _, err := os.Stat(other); err == nil {
		t.Errorf("a refused fetch placed %s", other)
	}
}

func TestSchemasFetchUsage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("entries: [{name: a, url: ftp://x}]"), 0o644); err != nil {
		t.Fatal(err)
	}
	notOurs := t.TempDir()
	if err := os.WriteFile(filepath.Join(notOurs, "mine.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"fetch", "--bogus"},
		{"fetch", "extra"},
		{"fetch", "--dir", t.TempDir(), "--manifest", bad},
		{"fetch", "--dir", t.TempDir(), "--manifest", filepath.Join(t.TempDir(), "missing.json")},
		{"fetch", "--dir", notOurs},
	} {
		if code, _, stderr := runSchemas(args...); code != exitUsage || stderr == "" {
			t.Errorf("%v: want exit 2 with a message, got %d %q", args, code, stderr)
		}
	}
	if code, _, _ := runSchemas("fetch", "-h"); code != exitPassed {
		t.Errorf("fetch -h: exit %d", code)
	}
	if code, out, _ := runSchemas("manifest"); code != exitPassed || !strings.Contains(out, "raw.githubusercontent.com") {
		t.Errorf("manifest: exit %d %q", code, out)
	}
}
