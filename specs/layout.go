package specs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Required are the official files a conformance run reads, relative to the specs folder: the
// FIT-Connect metadata schema (the reference validates metadata with it), the XBau 2.3.1 message
// schemas the fixtures use (the suites confirm their broken data with them; the reference
// validates data), and XFinanz 3.1.0 kasseImport (the suites validate every Anordnung).
var Required = []string{
	"fit-connect/metadata.schema.v1.0.0.json",
	"xbau-2.3.1/xsd_dev/xbau-nachrichten-baugenehmigung.xsd",
	"xbau-2.3.1/xsd_dev/xbau-nachrichten-genehmigungsfreistellung.xsd",
	"xfinanz-3.1.0/xfinanz-nachricht-kasse-import.xsd",
}

// CheckLayout reports every required file missing from dir, naming each.
func CheckLayout(dir string) error {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	var missing []string
	for _, rel := range Required {
		if st, err := os.Stat(filepath.Join(dir, rel)); err != nil || st.IsDir() {
			missing = append(missing, rel)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s lacks %s (the folder is laid out like the official sets: fit-connect/, xbau-2.3.1/xsd_dev/, xfinanz-3.1.0/)", dir, strings.Join(missing, ", "))
	}
	return nil
}
