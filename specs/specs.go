// Package specs locates the official schemas and API descriptions (FIT-Connect, XBau, XFinanz …)
// that the kit validates against: $KONFORM_SPECS, or ../shared/specs beside the source tree.
// They are ground truth the user passes in, not part of this repository.
package specs

import (
	"bytes"
	"os"
	"path/filepath"
)

// EnvVar names the folder of the official specs.
const EnvVar = "KONFORM_SPECS"

const modulePath = "module github.com/konform/konform\n"

// Dir returns the specs folder and whether it exists.
func Dir() (string, bool) {
	if d := os.Getenv(EnvVar); d != "" {
		return d, isDir(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(b, []byte(modulePath)) {
			s := filepath.Join(d, "..", "shared", "specs")
			return s, isDir(s)
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
