package fields

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCorpus maps every XML fixture of the kit's corpus and compares the result with the
// fixture's expected record: both sides implement the contract's path rule on their own.
func TestCorpus(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "xoev", "*", "expected.json"))
	if len(dirs) == 0 {
		t.Skip("no fixtures below ../../fixtures/xoev")
	}
	for _, exp := range dirs {
		dir := filepath.Dir(exp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, "data.xml"))
			if err != nil {
				t.Skip("no data.xml")
			}
			b, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				Fields map[string]string `json:"fields"`
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			got, err := New().FromXML(data)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want.Fields, got); d != "" {
				t.Errorf("fields (-expected.json +reference):\n%s", d)
			}
		})
	}
}
