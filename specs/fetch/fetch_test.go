package fetch

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/konform/konform/specs"
	"github.com/konform/konform/specs/specstest"
)

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func fileDigest(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return digest(b)
}

func TestBuiltInManifestPinsTheSharedSpecs(t *testing.T) {
	dir := specstest.Dir(t)
	m, err := BuiltIn()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range m.Entries {
		if !e.Confirmed && e.Note == "" {
			t.Errorf("%s: unconfirmed, but no note says what is not confirmed", e.Name)
		}
		if !e.Archive {
			if got := fileDigest(t, filepath.Join(dir, e.Path)); got != e.SHA256 {
				t.Errorf("%s: pins %s, %s has %s", e.Name, e.SHA256, e.Path, got)
			}
			continue
		}
		for _, f := range e.Files {
			if f.SHA256 == "" {
				t.Errorf("%s: %s carries no pin of its own", e.Name, f.From)
			} else if got := fileDigest(t, filepath.Join(dir, f.To)); got != f.SHA256 {
				t.Errorf("%s: pins %s for %s, %s has %s", e.Name, f.SHA256, f.From, f.To, got)
			}
		}
	}
	placed := m.Destinations()
	want := slices.Clone(specs.Required)
	for _, folder := range []string{"fit-connect", "xbau-2.3.1/xsd_dev", "xfinanz-3.1.0"} {
		entries, err := os.ReadDir(filepath.Join(dir, folder))
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range entries {
			want = append(want, folder+"/"+de.Name())
		}
	}
	for _, w := range want {
		if !slices.Contains(placed, w) {
			t.Errorf("the built-in manifest does not place %s", w)
		}
	}
}

// mirror serves the specs folder, the archives of a mirror manifest, and overrides.
type mirror struct {
	srv      *httptest.Server
	specs    string
	archives map[string][]byte
	override map[string][]byte
}

func newMirror(t *testing.T, specsDir string) *mirror {
	m := &mirror{specs: specsDir, archives: map[string][]byte{}, override: map[string][]byte{}}
	files := http.FileServer(http.Dir(specsDir))
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := m.override[r.URL.Path]; ok {
			_, _ = w.Write(b)
			return
		}
		if b, ok := m.archives[r.URL.Path]; ok {
			_, _ = w.Write(b)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *mirror) url(p string) string { return m.srv.URL + (&url.URL{Path: "/" + p}).EscapedPath() }

// manifestFrom rewrites the built-in manifest to point at the mirror: a single file at its path
// in the specs folder, an archive at a zip the mirror builds from the specs folder's files.
func (m *mirror) manifestFrom(t *testing.T, built Manifest) []byte {
	t.Helper()
	var out Manifest
	for _, e := range built.Entries {
		if e.Archive {
			zipped := m.zipOf(t, e.Files)
			p := "/_archives/" + e.Name + ".zip"
			m.archives[p] = zipped
			e.URL, e.SHA256 = m.srv.URL+p, digest(zipped)
		} else {
			e.URL = m.url(e.Path)
		}
		out.Entries = append(out.Entries, e)
	}
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (m *mirror) zipOf(t *testing.T, members []Member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range members {
		content, ok := m.override["/"+f.To]
		if !ok {
			var err error
			if content, err = os.ReadFile(filepath.Join(m.specs, f.To)); err != nil {
				t.Fatal(err)
			}
		}
		w, err := zw.Create(f.From)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustParse(t *testing.T, data []byte) Manifest {
	t.Helper()
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func builtInManifest(t *testing.T) Manifest {
	t.Helper()
	m, err := BuiltIn()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fetchInto(m Manifest, dir string) (Record, error) {
	return Fetch(context.Background(), m, "test", dir, Options{Check: specs.CheckLayout})
}

func TestFetchFromAMirrorFillsTheLayout(t *testing.T) {
	mir := newMirror(t, specstest.Dir(t))
	m := mustParse(t, mir.manifestFrom(t, builtInManifest(t)))
	dir := filepath.Join(t.TempDir(), "konform", "schemas")

	rec, err := fetchInto(m, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := specs.CheckLayout(dir); err != nil {
		t.Fatalf("the fetched folder fails the layout check: %v", err)
	}
	if got, want := len(rec.Files), len(m.Destinations()); got != want {
		t.Errorf("record lists %d files, the manifest places %d", got, want)
	}
	var onDisk Record
	data, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &onDisk); err != nil {
		t.Fatalf("%s: %v", RecordFile, err)
	}
	if onDisk.Manifest.SHA256 != m.Digest() || onDisk.FetchedAt.IsZero() {
		t.Errorf("record: manifest %+v, fetched at %v", onDisk.Manifest, onDisk.FetchedAt)
	}
	for rel, want := range onDisk.Files {
		if got := fileDigest(t, filepath.Join(dir, rel)); got != want {
			t.Errorf("%s: record says %s, the file has %s", rel, want, got)
		}
		if got := fileDigest(t, filepath.Join(mir.specs, rel)); got != want {
			t.Errorf("%s: differs from the mirror's file", rel)
		}
	}

	// A second fetch replaces the folder the first one filled.
	if _, err := fetchInto(m, dir); err != nil {
		t.Fatalf("fetching again: %v", err)
	}
	left, _ := os.ReadDir(filepath.Dir(dir))
	if len(left) != 1 {
		t.Errorf("beside the folder, the fetch left %v", left)
	}
}

func flipped(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	return b
}

func requireNothingPlaced(t *testing.T, parent string) {
	t.Helper()
	left, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("a failed fetch left %v in %s", left, parent)
	}
}

func TestFetchRefusesAChangedByte(t *testing.T) {
	const rel = "xfinanz-3.1.0/xfinanz-nachricht-kasse-import.xsd"
	mir := newMirror(t, specstest.Dir(t))
	m := mustParse(t, mir.manifestFrom(t, builtInManifest(t)))
	changed := flipped(t, filepath.Join(mir.specs, rel))
	mir.override["/"+rel] = changed
	parent := t.TempDir()

	_, err := fetchInto(m, filepath.Join(parent, "schemas"))
	var de *DigestError
	if !errors.As(err, &de) {
		t.Fatalf("a changed byte: want a digest error, got %v", err)
	}
	for _, want := range []string{"xfinanz-nachricht-kasse-import.xsd", fileDigest(t, filepath.Join(mir.specs, rel)), digest(changed)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
	requireNothingPlaced(t, parent)
}

func TestFetchRefusesAChangedByteInsideAnArchive(t *testing.T) {
	const rel = "xbau-2.3.1/xsd_dev/xbau-nachrichten-baugenehmigung.xsd"
	mir := newMirror(t, specstest.Dir(t))
	mir.override["/"+rel] = flipped(t, filepath.Join(mir.specs, rel)) // the mirror zips the changed file, and pins the zip
	m := mustParse(t, mir.manifestFrom(t, builtInManifest(t)))
	parent := t.TempDir()

	_, err := fetchInto(m, filepath.Join(parent, "schemas"))
	var de *DigestError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "xsd_dev/xbau-nachrichten-baugenehmigung.xsd") {
		t.Fatalf("a changed archive member: want a digest error naming it, got %v", err)
	}
	requireNothingPlaced(t, parent)
}

func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFetchRefusesAPathTraversalArchiveEntry(t *testing.T) {
	evil := tarGz(t, map[string]string{"set/ok.xsd": "<x/>", "set/../../evil.xsd": "<evil/>"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(evil) }))
	t.Cleanup(srv.Close)
	for name, placement := range map[string]string{
		"strip": `"strip": "set/", "path": "x"`,
		"files": `"files": [{"from": "set/ok.xsd", "to": "x/ok.xsd"}]`,
	} {
		t.Run(name, func(t *testing.T) {
			m := mustParse(t, []byte(`{"entries": [{"name": "set", "url": "`+srv.URL+`/set.tar.gz", "sha256": "`+digest(evil)+
				`", "archive": true, `+placement+`, "publisher": "p", "source": "s", "confirmed": false}]}`))
			parent := t.TempDir()
			_, err := Fetch(context.Background(), m, "test", filepath.Join(parent, "schemas"), Options{})
			if err == nil || !strings.Contains(err.Error(), "leaves the folder") || !strings.Contains(err.Error(), "evil.xsd") {
				t.Fatalf("want the traversing entry refused by name, got %v", err)
			}
			requireNothingPlaced(t, parent)
		})
	}
}

func TestFetchUnpacksAStrippedTarGz(t *testing.T) {
	set := tarGz(t, map[string]string{"./set/a.xsd": "<a/>", "set/sub/b.xsd": "<b/>", "other/c.xsd": "<c/>"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(set) }))
	t.Cleanup(srv.Close)
	m := mustParse(t, []byte("entries:\n- name: set\n  url: "+srv.URL+"/set.tar.gz\n  sha256: "+digest(set)+
		"\n  archive: true\n  strip: set/\n  path: x/y\n  publisher: p\n  source: s\n  confirmed: false\n"))
	dir := filepath.Join(t.TempDir(), "schemas")
	rec, err := Fetch(context.Background(), m, "test", dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"x/y/a.xsd": digest([]byte("<a/>")), "x/y/sub/b.xsd": digest([]byte("<b/>"))}
	if !maps.Equal(rec.Files, want) {
		t.Errorf("placed %v, want %v", rec.Files, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "x", "y", "sub", "b.xsd")); err != nil || string(b) != "<b/>" {
		t.Errorf("x/y/sub/b.xsd: %q %v", b, err)
	}
}

func TestFetchKeepsAFolderItDidNotFill(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckTarget(dir); err == nil || !strings.Contains(err.Error(), RecordFile) {
		t.Fatalf("a folder with the user's files: %v", err)
	}
}

func TestParseRefusesMalformedManifests(t *testing.T) {
	const pin = "0000000000000000000000000000000000000000000000000000000000000000"
	entry := func(fields string) string {
		return `{"entries": [{"name": "a", "url": "https://example.org/a", "sha256": "` + pin + `", "publisher": "p", "source": "s", "confirmed": false` + fields + `}]}`
	}
	for name, tc := range map[string]struct{ data, want string }{
		"not yaml":        {"entries: [", "not valid JSON or YAML"},
		"no entries":      {`{"entries": []}`, "no entries"},
		"unknown field":   {entry(`, "path": "a.xsd", "colour": "red"`), "colour"},
		"short pin":       {strings.Replace(entry(`, "path": "a.xsd"`), pin, "abc", 1), "sha256"},
		"upper-case pin":  {strings.Replace(entry(`, "path": "a.xsd"`), pin, strings.Repeat("A", 64), 1), "sha256"},
		"ftp url":         {strings.Replace(entry(`, "path": "a.xsd"`), "https://", "ftp://", 1), "not an http or https URL"},
		"no path":         {entry(``), "path is required"},
		"dotdot path":     {entry(`, "path": "../a.xsd"`), "leaves the schema folder"},
		"absolute path":   {entry(`, "path": "/etc/a.xsd"`), "leaves the schema folder"},
		"record path":     {entry(`, "path": "konform-schemas.json"`), "record"},
		"bare archive":    {entry(`, "archive": true`), "needs files"},
		"dotdot to":       {entry(`, "archive": true, "files": [{"from": "a", "to": "x/../../a"}]`), "leaves the schema folder"},
		"files no archiv": {entry(`, "path": "a", "files": [{"from": "a", "to": "a"}]`), "archive: true"},
		"no publisher":    {strings.Replace(entry(`, "path": "a.xsd"`), `"publisher": "p", `, "", 1), "publisher"},
		"twice named": {`{"entries": [` +
			`{"name": "a", "url": "https://e.org/a", "sha256": "` + pin + `", "path": "a", "publisher": "p", "source": "s"},` +
			`{"name": "a", "url": "https://e.org/b", "sha256": "` + pin + `", "path": "b", "publisher": "p", "source": "s"}]}`, `two entries are named "a"`},
		"placed twice": {`{"entries": [` +
			`{"name": "a", "url": "https://e.org/a", "sha256": "` + pin + `", "path": "a", "publisher": "p", "source": "s"},` +
			`{"name": "b", "url": "https://e.org/b", "sha256": "` + pin + `", "path": "a", "publisher": "p", "source": "s"}]}`, "both place a"},
	} {
		_, err := Parse([]byte(tc.data))
		var me *ManifestError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want a manifest error naming %q, got %v", name, tc.want, err)
		}
	}
}
