package fetch

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// archiveFile is one entry of an archive, whatever its format.
type archiveFile struct {
	name    string
	mode    fs.FileMode
	content func() (io.ReadCloser, error)
}

// unpack places the members e names (or, with Strip, every file below the prefix) from the
// verified archive at tmp. Every entry name is checked first: one that would leave the folder
// refuses the whole archive.
func (f *fetcher) unpack(tmp string, e Entry) error {
	files, closeArchive, err := openArchive(tmp)
	if err != nil {
		return err
	}
	defer closeArchive()
	for _, af := range files {
		if af.name == "" && af.mode.IsDir() {
			continue // the archive's own root, "./"
		}
		if !isLocal(af.name) {
			return fmt.Errorf("archive entry %q leaves the folder (absolute or ..); refused", af.name)
		}
	}
	if e.Strip != nil {
		return f.unpackStripped(files, *e.Strip, e.Path)
	}
	byName := map[string]archiveFile{}
	for _, af := range files {
		if _, dup := byName[af.name]; dup {
			return fmt.Errorf("archive entry %q appears twice", af.name)
		}
		byName[af.name] = af
	}
	for _, m := range e.Files {
		af, ok := byName[m.From]
		if !ok {
			return fmt.Errorf("the archive has no %s", m.From)
		}
		if err := f.extract(af, m.To, m.SHA256); err != nil {
			return err
		}
	}
	return nil
}

func (f *fetcher) unpackStripped(files []archiveFile, strip, into string) error {
	n := 0
	for _, af := range files {
		rest, ok := strings.CutPrefix(af.name, strip)
		if !ok || af.mode.IsDir() || rest == "" {
			continue
		}
		if !isLocal(rest) {
			return fmt.Errorf("archive entry %q leaves the folder once %q is stripped; refused", af.name, strip)
		}
		if err := f.extract(af, path.Join(into, rest), ""); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("the archive has no file below %q", strip)
	}
	return nil
}

// extract writes af to rel in the staging folder, checking its pin (if any) before placing it.
func (f *fetcher) extract(af archiveFile, rel, pin string) error {
	if !af.mode.IsRegular() {
		return fmt.Errorf("archive entry %q is not a regular file; refused", af.name)
	}
	if _, dup := f.files[rel]; dup {
		return fmt.Errorf("%s is placed twice", rel)
	}
	r, err := af.content()
	if err != nil {
		return fmt.Errorf("archive entry %q: %w", af.name, err)
	}
	defer r.Close()
	out, err := os.CreateTemp(f.downloads, "member-")
	if err != nil {
		return err
	}
	defer out.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(r, maxDownload+1))
	if err != nil {
		return fmt.Errorf("archive entry %q: %w", af.name, err)
	}
	if n > maxDownload {
		return fmt.Errorf("archive entry %q: larger than %d bytes", af.name, maxDownload)
	}
	if err := out.Close(); err != nil {
		return err
	}
	digest := fmt.Sprintf("%x", h.Sum(nil))
	if pin != "" && digest != pin {
		return &DigestError{File: af.name, Expected: pin, Actual: digest}
	}
	return f.place(out.Name(), rel, digest)
}

// openArchive reads a zip or a tar.gz, told apart by their first bytes.
func openArchive(p string) ([]archiveFile, func(), error) {
	head := make([]byte, 4)
	file, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	n, _ := io.ReadFull(file, head)
	file.Close()
	switch {
	case bytes.Equal(head[:n], []byte("PK\x03\x04")):
		return openZip(p)
	case n >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		files, err := readTarGz(p)
		return files, func() {}, err
	}
	return nil, nil, errors.New("the download is neither a zip nor a tar.gz archive")
}

func openZip(p string) ([]archiveFile, func(), error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, nil, fmt.Errorf("zip: %w", err)
	}
	var files []archiveFile
	for _, zf := range zr.File {
		files = append(files, archiveFile{name: entryName(zf.Name), mode: zf.Mode(), content: zf.Open})
	}
	return files, func() { zr.Close() }, nil
}

// readTarGz lists a tar.gz; a tar streams, so each file's content is read on demand by
// scanning the archive again, which is cheap for the few files a schema set has.
func readTarGz(p string) ([]archiveFile, error) {
	var files []archiveFile
	err := walkTarGz(p, func(h *tar.Header, _ io.Reader) (bool, error) {
		name := entryName(h.Name)
		files = append(files, archiveFile{name: name, mode: h.FileInfo().Mode(), content: func() (io.ReadCloser, error) {
			return tarMember(p, h.Name)
		}})
		return false, nil
	})
	return files, err
}

func tarMember(p, name string) (io.ReadCloser, error) {
	var data []byte
	err := walkTarGz(p, func(h *tar.Header, r io.Reader) (bool, error) {
		if h.Name != name {
			return false, nil
		}
		var err error
		data, err = io.ReadAll(io.LimitReader(r, maxDownload+1))
		return true, err
	})
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// walkTarGz calls visit for each entry until it returns true.
func walkTarGz(p string, visit func(*tar.Header, io.Reader) (bool, error)) error {
	file, err := os.Open(p)
	if err != nil {
		return err
	}
	defer file.Close()
	gz, err := gzip.NewReader(bufio.NewReader(file))
	if err != nil {
		return fmt.Errorf("tar.gz: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar.gz: %w", err)
		}
		if done, err := visit(h, tr); done || err != nil {
			return err
		}
	}
}

// entryName drops a leading "./" and a folder's trailing slash.
func entryName(name string) string {
	return strings.TrimSuffix(strings.TrimPrefix(name, "./"), "/")
}
