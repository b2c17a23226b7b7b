// Package specstest hands tests the official specs, and skips a test with a clear message where
// they are absent.
package specstest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/konform/konform/specs"
)

// Dir returns the specs folder, or skips tb.
func Dir(tb testing.TB) string {
	tb.Helper()
	d, ok := specs.Dir()
	if !ok {
		tb.Skipf("official specs not found (set %s, or lay them out at ../shared/specs beside the source tree): skipped", specs.EnvVar)
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		tb.Fatal(err)
	}
	return abs
}

// File returns the path of rel inside the specs folder, or skips tb when it is absent.
func File(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Dir(tb), rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("official spec %s not found (%v): skipped", rel, err)
	}
	return p
}
