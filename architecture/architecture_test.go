package architecture

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/konform/konform"

// pkg is what `go list -json` reports of a package, as far as the rules need it.
type pkg struct {
	ImportPath   string
	Standard     bool
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
	CgoFiles     []string
	Error        *struct{ Err string }
}

// row is one line of the package table: which packages it covers and what they may import.
type row struct {
	patterns   []string
	mayImport  []string
	everything bool
	except     []string
}

func (r row) allows(imp string) bool {
	if r.everything {
		return !slices.ContainsFunc(r.except, func(p string) bool { return imp == p || under(p, imp) })
	}
	return slices.ContainsFunc(r.mayImport, func(p string) bool { return matches(p, imp) })
}

func TestImportsFollowTheTable(t *testing.T) {
	rows := readTable(t)
	pkgs := listPackages(t)
	used := map[int]bool{}
	for _, p := range ours(pkgs) {
		name := local(p.ImportPath)
		i, ok := rowOf(rows, name)
		if !ok {
			t.Errorf("%s: no row of the package table in docs/architecture.md covers it", name)
			continue
		}
		used[i] = true
		for _, imp := range p.Imports {
			if dep, ok := strings.CutPrefix(imp, module+"/"); ok && !rows[i].allows(dep) {
				t.Errorf("%s imports %s: the table's row %s does not allow it", name, dep, strings.Join(rows[i].patterns, ", "))
			}
		}
	}
	for i, r := range rows {
		if !used[i] {
			t.Errorf("docs/architecture.md: the row %s covers no package", strings.Join(r.patterns, ", "))
		}
	}
}

// Nothing imports cmd/ or suites/: only the CLI and the suites themselves import a suite. Test
// files keep to this too.
func TestNothingImportsCmdOrSuites(t *testing.T) {
	for _, p := range ours(listPackages(t)) {
		name := local(p.ImportPath)
		for _, imp := range allImports(p) {
			dep, ok := strings.CutPrefix(imp, module+"/")
			if !ok || dep == name {
				continue
			}
			if under("cmd", dep) {
				t.Errorf("%s imports %s: nothing imports cmd/", name, dep)
			}
			if under("suites", dep) && !under("suites", name) && name != "cmd/conformance" {
				t.Errorf("%s imports %s: only cmd/conformance and the suites import a suites/ package", name, dep)
			}
		}
	}
}

// The reference shares no code with the suites or the mocks, not even indirectly.
func TestReferenceSharesNoCodeWithSuitesOrMocks(t *testing.T) {
	for _, p := range ours(listPackages(t)) {
		name := local(p.ImportPath)
		if !under("reference", name) {
			continue
		}
		for _, d := range p.Deps {
			if dep, ok := strings.CutPrefix(d, module+"/"); ok && (under("suites", dep) || under("mocks", dep)) {
				t.Errorf("%s depends on %s: the reference never uses suites/ or mocks/", name, dep)
			}
		}
	}
}

// konform-mock is built with CGO_ENABLED=0 and must not depend on cgo; konform-reference may
// depend on cgo only for libxml2 (XSD validation), which its image build links statically.
func TestScratchBinariesCgo(t *testing.T) {
	pkgs := listPackages(t)
	byPath := map[string]pkg{}
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
	}
	if len(cgoDeps(byPath, module+"/schemas")) == 0 {
		t.Fatal("go list reports no cgo package below schemas (libxml2): the check would prove nothing")
	}
	for _, c := range cgoDeps(byPath, module+"/mocks/cmd/konform-mock") {
		t.Errorf("mocks/cmd/konform-mock depends on cgo package %s", c)
	}
	for _, c := range cgoDeps(byPath, module+"/reference/cmd/konform-reference") {
		if c != referenceCgo {
			t.Errorf("reference/cmd/konform-reference depends on cgo package %s; only %s (libxml2) is linked into its image", c, referenceCgo)
		}
	}
}

// referenceCgo is the one cgo package the reference may use.
const referenceCgo = "github.com/terminalstatic/go-xsd-validate"

func cgoDeps(byPath map[string]pkg, path string) []string {
	p, ok := byPath[path]
	if !ok {
		return []string{"(" + path + " not listed)"}
	}
	var out []string
	for _, d := range append([]string{path}, p.Deps...) {
		if q := byPath[d]; !q.Standard && len(q.CgoFiles) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// readTable parses the table under "## Packages" of docs/architecture.md.
func readTable(t *testing.T) []row {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parseTable(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("docs/architecture.md: %v", err)
	}
	return rows
}

var (
	backticked  = regexp.MustCompile("`([^`]+)`")
	parenthesis = regexp.MustCompile(`\([^)]*\)`)
)

func parseTable(r io.Reader) ([]row, error) {
	var rows []row
	inSection := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "## ") {
			inSection = line == "## Packages"
			continue
		}
		if !inSection || !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") || strings.HasPrefix(line, "| package |") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			return nil, fmt.Errorf("table row %q: want 3 cells, got %d", line, len(cells))
		}
		rw, err := parseRow(cells[0], cells[2])
		if err != nil {
			return nil, fmt.Errorf("table row %q: %w", line, err)
		}
		rows = append(rows, rw)
	}
	if len(rows) == 0 {
		return nil, errors.New(`no package table under "## Packages"`)
	}
	return rows, sc.Err()
}

func parseRow(pkgCell, mayCell string) (row, error) {
	var rw row
	for _, m := range backticked.FindAllStringSubmatch(pkgCell, -1) {
		rw.patterns = append(rw.patterns, m[1])
	}
	if len(rw.patterns) == 0 {
		return rw, errors.New("no package in the first cell")
	}
	may := strings.TrimSpace(mayCell)
	names := func(s string) []string {
		var out []string
		for _, m := range backticked.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		return out
	}
	switch {
	case may == "everything":
		rw.everything = true
	case strings.HasPrefix(may, "everything but "):
		rw.everything, rw.except = true, names(may)
	case may == "nothing of ours":
	default:
		// Prose in parentheses explains an entry; it names nothing more that may be imported.
		rw.mayImport = names(parenthesis.ReplaceAllString(may, ""))
		if len(rw.mayImport) == 0 {
			return rw, fmt.Errorf("may-import cell %q: want packages in backticks, %q, %q or %q", may, "nothing of ours", "everything", "everything but …")
		}
	}
	return rw, nil
}

// rowOf finds the row that names the package, else the row whose pattern covers it with the
// longest fixed prefix.
func rowOf(rows []row, name string) (int, bool) {
	best, bestLen := -1, -1
	for i, r := range rows {
		for _, p := range r.patterns {
			if p == name {
				return i, true
			}
			if matches(p, name) && len(fixedPrefix(p)) > bestLen {
				best, bestLen = i, len(fixedPrefix(p))
			}
		}
	}
	return best, best >= 0
}

// matches reports whether the table pattern covers the package: "x/*" one level below x,
// "x/..." x and everything below it, "<name>" one path element.
func matches(pattern, name string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return name == base || under(base, name)
	}
	pe, ne := strings.Split(pattern, "/"), strings.Split(name, "/")
	if len(pe) != len(ne) {
		return false
	}
	for i := range pe {
		if pe[i] != ne[i] && pe[i] != "*" && !strings.HasPrefix(pe[i], "<") {
			return false
		}
	}
	return true
}

func fixedPrefix(pattern string) string {
	if i := strings.IndexAny(pattern, "*<."); i >= 0 {
		return pattern[:i]
	}
	return pattern
}

func under(dir, name string) bool { return strings.HasPrefix(name, dir+"/") }

func local(importPath string) string { return strings.TrimPrefix(importPath, module+"/") }

func ours(pkgs []pkg) []pkg {
	var out []pkg
	for _, p := range pkgs {
		if p.ImportPath == module || strings.HasPrefix(p.ImportPath, module+"/") {
			out = append(out, p)
		}
	}
	return out
}

func allImports(p pkg) []string {
	return slices.Concat(p.Imports, p.TestImports, p.XTestImports)
}

var listOnce = sync.OnceValues(goList)

func listPackages(t *testing.T) []pkg {
	t.Helper()
	pkgs, err := listOnce()
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// goList lists every package of ours and its dependencies. CGO_ENABLED=1 makes it report cgo
// files even where no C compiler is installed.

func goList() ([]pkg, error) {
	cmd := exec.Command("go", "list", "-deps", "-test=false",
		"-json=ImportPath,Standard,Imports,TestImports,XTestImports,Deps,CgoFiles,Error", "./...")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func TestPatterns(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"mocks/*", "mocks/hkr", true},
		{"mocks/*", "mocks/cmd/konform-mock", false},
		{"mocks/*", "mocks", false},
		{"reference/...", "reference", true},
		{"reference/...", "reference/cmd/konform-reference", true},
		{"reference/...", "referenceX", false},
		{"suites/<profile>", "suites/hkr", true},
		{"suites/<profile>", "suites/hkr/x", false},
		{"jose/*", "jose/jwe", true},
	} {
		if got := matches(c.pattern, c.name); got != c.want {
			t.Errorf("matches(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
	rows := []row{{patterns: []string{"suites/<profile>"}}, {patterns: []string{"suites/check"}}, {patterns: []string{"mocks/*"}}, {patterns: []string{"mocks/cmd/konform-mock"}}}
	for name, want := range map[string]int{"suites/hkr": 0, "suites/check": 1, "mocks/hkr": 2, "mocks/cmd/konform-mock": 3} {
		if got, _ := rowOf(rows, name); got != want {
			t.Errorf("rowOf(%q) = row %d, want %d", name, got, want)
		}
	}
}

func TestMayImportCell(t *testing.T) {
	for cell, want := range map[string][]string{
		"`mocks/recorder` (its exchange type)":  {"mocks/recorder"},
		"`schemas` (`specstest` only), `specs`": {"schemas", "specs"},
		"nothing of ours":                       nil,
	} {
		rw, err := parseRow("`x`", cell)
		if err != nil || !slices.Equal(rw.mayImport, want) {
			t.Errorf("parseRow(%q) = %v, %v; want %v", cell, rw.mayImport, err, want)
		}
	}
	for _, cell := range []string{"—", "the mocks"} {
		if _, err := parseRow("`x`", cell); err == nil {
			t.Errorf("parseRow(%q) accepted a cell that names no package", cell)
		}
	}
	rw, _ := parseRow("`bench`", "everything but `cmd`, `suites`")
	if rw.allows("suites/hkr") || rw.allows("cmd/conformance") || !rw.allows("runtime") {
		t.Errorf("everything but cmd, suites: %+v", rw)
	}
}
