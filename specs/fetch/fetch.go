package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// maxDownload caps one download and one unpacked file, so a wrong URL cannot fill the disk.
const maxDownload = 512 << 20

// Options tune a fetch; the zero value uses http.DefaultClient and no layout check.
type Options struct {
	Client *http.Client
	// Check, when set, inspects the filled staging folder before it replaces Dir.
	Check func(dir string) error
	// Now stamps the record; time.Now when nil.
	Now func() time.Time
}

// DigestError is a download or an archive member whose bytes differ from the manifest's pin.
type DigestError struct {
	File     string
	Expected string
	Actual   string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%s: SHA-256 %s, the manifest pins %s; refused", e.File, e.Actual, e.Expected)
}

// Record is what konform-schemas.json holds.
type Record struct {
	Manifest  RecordManifest    `json:"manifest"`
	FetchedAt time.Time         `json:"fetchedAt"`
	Files     map[string]string `json:"files"`
}

// RecordManifest names the manifest a folder was filled from.
type RecordManifest struct {
	Source string `json:"source"`
	SHA256 string `json:"sha256"`
}

// CheckTarget refuses a folder fetch must not replace: a file, or a non-empty folder that a
// fetch did not fill.
func CheckTarget(dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s exists and is not a folder", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, RecordFile)); err != nil {
		return fmt.Errorf("%s is not empty and holds no %s: fetch replaces only a folder it filled", dir, RecordFile)
	}
	return nil
}

// Fetch downloads every entry of m, verifies it, and replaces dir with the result in one
// rename; on any error dir is left as it was and nothing of the fetch remains.
func Fetch(ctx context.Context, m Manifest, manifestSource, dir string, opts Options) (Record, error) {
	if err := CheckTarget(dir); err != nil {
		return Record{}, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Record{}, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Record{}, err
	}
	stage, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".fetching-")
	if err != nil {
		return Record{}, err
	}
	defer os.RemoveAll(stage)

	downloads, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".downloads-")
	if err != nil {
		return Record{}, err
	}
	defer os.RemoveAll(downloads)

	f := fetcher{client: opts.Client, stage: stage, downloads: downloads, files: map[string]string{}}
	if f.client == nil {
		f.client = http.DefaultClient
	}
	for i, e := range m.Entries {
		if err := f.entry(ctx, i, e); err != nil {
			return Record{}, fmt.Errorf("%s: %w", e.Name, err)
		}
	}
	if opts.Check != nil {
		if err := opts.Check(stage); err != nil {
			return Record{}, fmt.Errorf("the fetched set is incomplete: %w", err)
		}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	rec := Record{Manifest: RecordManifest{Source: manifestSource, SHA256: m.Digest()}, FetchedAt: now().UTC(), Files: f.files}
	if err := writeRecord(filepath.Join(stage, RecordFile), rec); err != nil {
		return Record{}, err
	}
	if err := os.Chmod(stage, 0o755); err != nil {
		return Record{}, err
	}
	return rec, replace(stage, dir)
}

type fetcher struct {
	client    *http.Client
	stage     string
	downloads string
	files     map[string]string // placed path → SHA-256
}

func (f *fetcher) entry(ctx context.Context, i int, e Entry) error {
	tmp := filepath.Join(f.downloads, fmt.Sprintf("%d", i))
	if err := f.download(ctx, e, tmp); err != nil {
		return err
	}
	if !e.Archive {
		return f.place(tmp, e.Path, e.SHA256)
	}
	return f.unpack(tmp, e)
}

// download writes e's bytes to tmp and fails unless they match the pin.
func (f *fetcher) download(ctx context.Context, e Entry, tmp string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL, nil)
	if err != nil {
		return err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: HTTP %s", e.URL, resp.Status)
	}
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(resp.Body, maxDownload+1))
	if err != nil {
		return fmt.Errorf("download %s: %w", e.URL, err)
	}
	if n > maxDownload {
		return fmt.Errorf("download %s: larger than %d bytes", e.URL, maxDownload)
	}
	if err := out.Close(); err != nil {
		return err
	}
	label := e.URL
	if !e.Archive {
		label = e.Path + " from " + e.URL
	}
	return verify(label, h, e.SHA256)
}

// place moves a verified file into the staging folder at rel.
func (f *fetcher) place(from, rel, digest string) error {
	to := filepath.Join(f.stage, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	if err := os.Chmod(from, 0o644); err != nil {
		return err
	}
	if err := os.Rename(from, to); err != nil {
		return err
	}
	f.files[rel] = digest
	return nil
}

func verify(file string, h hash.Hash, want string) error {
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return &DigestError{File: file, Expected: want, Actual: got}
	}
	return nil
}

func writeRecord(p string, rec Record) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(p, append(data, '\n'), 0o644)
}

// replace puts stage where dir is; an old dir is moved aside first and removed after.
func replace(stage, dir string) error {
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = stage + ".old"
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(stage, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}
