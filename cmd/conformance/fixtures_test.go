package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/specs"
	"github.com/konform/konform/specs/specstest"
)

func specsForTest(t *testing.T) string {
	t.Helper()
	specstest.File(t, "xbau-2.3.1")
	return specstest.Dir(t)
}

func runF(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := runFixtures(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestFixturesList(t *testing.T) {
	code, out, stderr := runF("list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"ID", "SCHEMA URI", "bg-0200-minimal", "urn:xoev-de:bmk:standard:xbau_2.3.1#baugenehmigung.antrag.0200", "123.45 (BOOKED)", "gf-0600-anzeige"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
}

func TestFixturesUsageErrors(t *testing.T) {
	// Without --schemas, validate falls back on $KONFORM_SPECS; one that does not exist leaves it none.
	t.Setenv(specs.EnvVar, filepath.Join(t.TempDir(), "nope"))
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"validate"},
		{"validate", "--schemas", filepath.Join(t.TempDir(), "nope")},
		{"validate", "--schemas", t.TempDir()},
		{"list", "--dir", filepath.Join(t.TempDir(), "nope")},
		{"list", "--bogus"},
		{"list", "extra"},
	} {
		if code, _, stderr := runF(args...); code != 2 || stderr == "" {
			t.Errorf("%v: want exit 2 with a message, got %d %q", args, code, stderr)
		}
	}
}

func TestFixturesValidate(t *testing.T) {
	specs := specsForTest(t)
	code, out, stderr := runF("validate", "--schemas", specs)
	if code != 0 {
		t.Fatalf("built-in corpus: exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(out, "0 invalid") {
		t.Errorf("summary missing: %s", out)
	}
}

func TestFixturesValidateBroken(t *testing.T) {
	specs := specsForTest(t)
	src, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bg-0200-minimal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"manifest.yaml", "expected.json", "lageplan.pdf", "data.xml"} {
		b, err := os.ReadFile(filepath.Join(src, "bg-0200-minimal", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "data.xml" {
			b = bytes.Replace(b, []byte("<code>11</code>"), []byte("<code>99</code>"), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ := runF("validate", "--schemas", specs, "--dir", filepath.Dir(dir))
	if code != 1 {
		t.Fatalf("want exit 1, got %d\n%s", code, out)
	}
	want := filepath.Join(dir, "data.xml") + ":42: "
	if !strings.Contains(out, want) {
		t.Fatalf("want a line starting %q, got:\n%s", want, out)
	}
}

func TestFixturesBrokenManifestExit1(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "x")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), []byte("id: x\nstandard: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runF("list", "--dir", filepath.Dir(dir))
	if code != 1 || !strings.Contains(stderr, "manifest.yaml:") {
		t.Fatalf("want exit 1 with manifest.yaml:line, got %d %q", code, stderr)
	}
}
