// Package specs locates the official schemas and API descriptions (FIT-Connect, XBau, XFinanz …)
// that the kit validates against: $KONFORM_SPECS, or ../shared/specs beside the source tree.
// They are ground truth the user passes in, not part of this repository.
package specs

import (
	"os"
	"path/filepath"

	"github.com/konform/konform/source"
)

// EnvVar names the folder of the official specs.
const EnvVar = "KONFORM_SPECS"

// Dir returns the specs folder and whether it exists.
func Dir() (string, bool) {
	if d := os.Getenv(EnvVar); d != "" {
		return d, isDir(d)
	}
	root, err := source.Root()
	if err != nil {
		return "", false
	}
	d := filepath.Join(root, "..", "shared", "specs")
	return d, isDir(d)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
