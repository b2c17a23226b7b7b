package xtareader

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/konform/konform/specs/specstest"
)

const rueckweisungXSDRel = "xbau-2.3.1/xsd_dev/xbau-kernmodul-nachrichten.xsd"

// The Rückweisung is valid against XBau (Kernmodul 1.2) and references the rejected message.
func TestRueckweisungValidAgainstXBau(t *testing.T) {
	valid, err := os.ReadFile("../../fixtures/xoev/bg-0200-minimal/data.xml")
	if err != nil {
		t.Fatal(err)
	}
	broken := bytes.Replace(valid, []byte("</nachrichtenkopf>"), []byte("</nachrichtenkopf><unerwartet/>"), 1)
	for name, payload := range map[string][]byte{"schema-invalid": broken, "not XML": []byte("kein XML „Ж“")} {
		t.Run(name, func(t *testing.T) {
			r := newRueckweisung(time.Now(), "Konform Referenz-Fachverfahren", party{Identifier: "bau:099990000001", Type: "xoev", Name: "Bauportal Ж"},
				party{Identifier: "bab:010010000000", Type: "xoev"}, "Element 'unerwartet': This element is not expected. „x“", payload)
			doc := r.Marshal()
			specstest.RequireValidXML(t, rueckweisungXSDRel, doc)
			if name == "schema-invalid" && !bytes.Contains(doc, []byte("<idNachricht><nachrichtenUUID>5e2b0001-4001-4001-8001-000000000001</nachrichtenUUID>")) {
				t.Errorf("Rückweisung does not reference the rejected nachrichtenUUID:\n%s", doc)
			}
		})
	}
}
