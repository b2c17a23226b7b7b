package fields

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestFieldPathCases holds the reference's field paths to the shared table of the contract's
// rule; the judge (fixtures) meets the same table with its own code.
func TestFieldPathCases(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fieldpaths.json"))
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Cases []struct {
			Name, Format, Data string
			Fields             map[string]string
		}
	}
	if err := json.Unmarshal(b, &table); err != nil {
		t.Fatal(err)
	}
	for _, c := range table.Cases {
		t.Run(c.Name, func(t *testing.T) {
			fields := New().FromXML
			if c.Format == "json" {
				fields = New().FromJSON
			}
			got, err := fields([]byte(c.Data))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.Fields, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("%q (-want +got):\n%s", c.Data, d)
			}
		})
	}
}
