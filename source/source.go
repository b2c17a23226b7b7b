// Package source finds the Konform source tree a command runs in: the docker runtime builds its
// images from it, and the built-in fixtures and the official specs are found beside it.
package source

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// ModulePath is the Konform module.
const ModulePath = "github.com/konform/konform"

// Root walks up from the working folder to the folder holding Konform's go.mod.
func Root() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module "+ModulePath+"\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("not inside the Konform source tree (no go.mod of %s above %s)", ModulePath, wd)
		}
	}
}
