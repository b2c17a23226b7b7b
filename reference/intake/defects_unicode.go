package intake

import (
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/fields"
)

// Defects that normalise one kind of stored text to one Unicode form.
const (
	defectNFDNames           = "nfd-names-only"
	defectNFDFreeText        = "nfd-free-text"
	defectNFCAttachmentNames = "nfc-attachment-filenames"
)

// unicodeDefectOptions are the field-mapping options of the defects that normalise one kind of
// field: person names or free-text paragraphs.
func unicodeDefectOptions(d defects.Set) []fields.Option {
	var o []fields.Option
	if d.On(defectNFDNames) {
		o = append(o, fields.WithNormalisedPaths(norm.NFD, func(p string) bool {
			return strings.Contains(p, "natuerlichePerson/name/")
		}))
	}
	if d.On(defectNFDFreeText) {
		o = append(o, fields.WithNormalisedPaths(norm.NFD, func(p string) bool {
			last := p[strings.LastIndex(p, "/")+1:]
			return last == "textabsatz" || strings.HasPrefix(last, "textabsatz[")
		}))
	}
	return o
}

// storedFilename is the file name the reference keeps for an attachment: as sent, or NFC-normalised
// with nfc-attachment-filenames.
func storedFilename(name string, d defects.Set) string {
	if d.On(defectNFCAttachmentNames) {
		return norm.NFC.String(name)
	}
	return name
}
