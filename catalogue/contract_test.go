package catalogue

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

const contractPath = "../docs/sut-contract.md"

// rejectionTable renders the contract's table of expected rejections from the catalogue.
func rejectionTable(c *Catalogue) string {
	var b strings.Builder
	b.WriteString("| test ID | level | event | problem `type` | `instance` | fixed by |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, id := range c.IDs() {
		r, _ := c.Lookup(id)
		e := r.Expect
		if e == nil {
			continue
		}
		by := "public source"
		if e.Basis == BasisKitDecision {
			by = "**kit decision**"
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | `%s` | `%s` | %s |\n", r.ID, r.Level, e.Event, e.ProblemType, e.Instance, by)
	}
	return b.String()
}

// contractTable returns the first table under the contract's heading "Rejections the kit expects".
func contractTable(doc string) (string, bool) {
	var b strings.Builder
	in, found := false, false
	for _, l := range strings.Split(doc, "\n") {
		switch {
		case strings.HasPrefix(l, "#"):
			if found && b.Len() > 0 {
				return b.String(), true
			}
			in = strings.Contains(l, "Rejections the kit expects")
			found = found || in
		case in && strings.HasPrefix(l, "|"):
			b.WriteString(l + "\n")
		case in && b.Len() > 0:
			return b.String(), true
		}
	}
	return b.String(), found
}

func TestContractRejectionTableMatchesCatalogue(t *testing.T) {
	doc, err := os.ReadFile(contractPath)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := contractTable(string(doc))
	if !ok {
		t.Fatalf("%s has no section \"Rejections the kit expects\"", contractPath)
	}
	if want := rejectionTable(Builtin()); got != want {
		t.Errorf("the table in %s disagrees with the catalogue's expect blocks; it should read:\n\n%s\ngot:\n\n%s", contractPath, want, got)
	}
}
