package specs

import (
	"os"
	"path/filepath"
)

// UserDir returns the user-level folder `conformance schemas fetch` fills by default
// ($XDG_DATA_HOME/konform/schemas, else ~/.local/share/konform/schemas) and whether it exists.
func UserDir() (string, bool) {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", false
		}
		base = filepath.Join(home, ".local", "share")
	}
	d := filepath.Join(base, "konform", "schemas")
	return d, isDir(d)
}
