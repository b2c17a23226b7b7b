// Package digest computes the SHA-256 digests a run's attestation binds its inputs with: of
// files, of folder trees (each file, and one digest over the tree).
package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Prefix marks a digest's algorithm, as OCI and in-toto write it.
const Prefix = "sha256:"

// File is one file's path (slash-separated, relative to the tree's root) and "sha256:<hex>".
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// OfFile returns "sha256:<hex>" of the file at path.
func OfFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return Prefix + hex.EncodeToString(h.Sum(nil)), nil
}

// Tree returns the digest of every regular file below root (or below each of the given
// subfolders of root), sorted by path.
func Tree(root string, subdirs ...string) ([]File, error) {
	if len(subdirs) == 0 {
		subdirs = []string{"."}
	}
	var out []File
	for _, sub := range subdirs {
		err := filepath.WalkDir(filepath.Join(root, sub), func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !e.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			d, err := OfFile(path)
			if err != nil {
				return err
			}
			out = append(out, File{Path: filepath.ToSlash(rel), SHA256: d})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// OfTree returns one "sha256:<hex>" over a tree's files: each path and digest on a line of its
// own, in path order.
func OfTree(files []File) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s %s\n", f.SHA256, f.Path)
	}
	return Prefix + hex.EncodeToString(h.Sum(nil))
}
