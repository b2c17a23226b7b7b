package digest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTreeAndOfTree(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b/x.xsd", "x")
	write("a.json", "")
	write("c/y.xsd", "y")
	files, err := Tree(dir, "a.json", "b")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path != "a.json" || files[1].Path != "b/x.xsd" {
		t.Fatalf("%+v", files)
	}
	if files[0].SHA256 != "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("digest of the empty file: %s", files[0].SHA256)
	}
	before := OfTree(files)
	write("b/x.xsd", "X")
	changed, _ := Tree(dir, "a.json", "b")
	if OfTree(changed) == before {
		t.Error("a changed byte must change the tree's digest")
	}
}
