package catalogue

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestMockRulesHaveRuleWhereSource(t *testing.T) {
	rules, err := MockRules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) == 0 {
		t.Fatal("no mock rules")
	}
	for i, r := range rules {
		if strings.TrimSpace(r.Rule) == "" || strings.TrimSpace(r.Where) == "" || strings.TrimSpace(r.Source) == "" {
			t.Errorf("entry %d lacks rule, where or source: %+v", i+1, r)
		}
	}
}

// TestMockRulesWhereExists keeps every where pointing at code that exists: "<file>: <name>, …"
// (several such parts separated by ";"), with paths from the source tree's root.
func TestMockRulesWhereExists(t *testing.T) {
	rules, err := MockRules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		for _, part := range strings.Split(r.Where, ";") {
			file, names, ok := strings.Cut(strings.TrimSpace(part), ": ")
			if !ok {
				t.Errorf("where %q: want \"<file>: <name>, …\"", r.Where)
				continue
			}
			src, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(file)))
			if err != nil {
				t.Errorf("where %q: %v", r.Where, err)
				continue
			}
			for _, n := range strings.Split(names, ",") {
				n = strings.TrimSpace(n)
				decl := regexp.MustCompile(`(?m)^(func (\([^)]*\) )?|var |type )` + regexp.QuoteMeta(n) + `\b`)
				if !decl.Match(src) {
					t.Errorf("where %q: %s declares no %s", r.Where, file, n)
				}
			}
		}
	}
}

func TestParseMockRulesRefusesIncompleteEntries(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":         "",
		"no source":     "- rule: r\n  where: \"a.go: f\"\n",
		"blank where":   "- rule: r\n  where: \" \"\n  source: s\n",
		"unknown field": "- rule: r\n  where: \"a.go: f\"\n  source: s\n  note: n\n",
		"not a list":    "rule: r\n",
	} {
		if _, err := ParseMockRules([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	rules, err := ParseMockRules([]byte("- rule: r\n  where: \"a.go: f\"\n  source: s\n"))
	if err != nil || len(rules) != 1 || rules[0].Source != "s" {
		t.Errorf("good entry: %+v, %v", rules, err)
	}
}
