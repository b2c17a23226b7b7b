package specs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckLayoutNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	err := CheckLayout(dir)
	if err == nil {
		t.Fatal("an empty folder passes the layout check")
	}
	for _, rel := range Required {
		if !strings.Contains(err.Error(), rel) {
			t.Errorf("the error does not name %s: %v", rel, err)
		}
	}
	for _, rel := range Required {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := CheckLayout(dir); err != nil {
		t.Fatalf("a complete folder fails: %v", err)
	}
	if err := CheckLayout(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Fatalf("a missing folder: %v", err)
	}
}
