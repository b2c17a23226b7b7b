package hkr

import (
	"time"

	"github.com/beevik/etree"
)

// Answer message types.
const (
	TypeAntwortAOOhnePerson      = "antwort.AOOhnePerson.9903"
	TypeAntwortAOMitPerson       = "antwort.AOMitPerson.9904"
	TypeAntwortAnnahmeVerweigert = "antwort.AnnahmeVerweigert.9901"
)

// aoAnswer is the mock's answer to one Anordnung.
type aoAnswer struct {
	nummer     string
	positions  []int
	ok         bool
	fehlertext []string
}

type antwortHead struct {
	product, version string
	uebertragungsID  int64
	senderProduct    string
	now              time.Time
}

func newAntwort(msgType string, h antwortHead, beschreibung string) (*etree.Document, *etree.Element) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("xfn:" + msgType)
	root.CreateAttr("xmlns:xfn", Namespace)
	kopf := root.CreateElement("xfn:nachrichtenkopf")
	kopf.CreateAttr("produkt", h.product)
	kopf.CreateAttr("produkthersteller", "Konform")
	kopf.CreateAttr("produktversion", h.version)
	kopf.CreateAttr("standard", "XFinanz")
	kopf.CreateAttr("test", "true")
	kopf.CreateAttr("version", "3.1.0")
	kopf.CreateElement("xfn:beschreibung").SetText(beschreibung)
	kopf.CreateElement("xfn:erstellungszeitpunkt").SetText(h.now.UTC().Format(time.RFC3339))
	ve := kopf.CreateElement("xfn:verfahrenEmpfaenger")
	ve.CreateElement("xfn:uebertragungsID").SetText(itoa64(h.uebertragungsID))
	prod := h.senderProduct
	if prod == "" {
		prod = "unbekannt"
	}
	ve.CreateElement("xfn:produkt").SetText(prod)
	return doc, root
}

// buildAntwortAO answers an Anordnung message: 9904 for AOMitPerson messages, 9903 otherwise.
func buildAntwortAO(h antwortHead, p *parsed, answers []aoAnswer) ([]byte, error) {
	msgType := TypeAntwortAOOhnePerson
	if p.msgType == TypeAOMitPersonDoppisch {
		msgType = TypeAntwortAOMitPerson
	}
	doc, root := newAntwort(msgType, h, "Empfangsbestätigung zu "+p.msgType)
	if msgType == TypeAntwortAOMitPerson {
		apk := root.CreateElement("xfn:antwortPersonKomplett")
		for _, n := range p.persons {
			ap := apk.CreateElement("xfn:antwortPerson")
			ap.CreateElement("xfn:kennzeichenOK").SetText("true")
			pn := ap.CreateElement("xfn:personenNummern")
			if n.Extern != "" {
				pn.CreateElement("xfn:personennummerExtern").SetText(n.Extern)
			}
			if n.Referenz != "" {
				pn.CreateElement("xfn:personenreferenznummer").SetText(n.Referenz)
			}
			if n.Intern != "" {
				pn.CreateElement("xfn:personennummerIntern").SetText(n.Intern)
			}
		}
	}
	for _, a := range answers {
		ao := root.CreateElement("xfn:antwortAO")
		for _, n := range a.positions {
			pos := ao.CreateElement("xfn:antwortAnordnungsposition")
			pos.CreateElement("xfn:aPNummer").SetText(itoa64(int64(n)))
			pos.CreateElement("xfn:kennzeichenOK").SetText(boolText(a.ok))
			for _, t := range a.fehlertext {
				pos.CreateElement("xfn:fehlertext").SetText(t)
			}
		}
		ao.CreateElement("xfn:anordnungsnummerExtern").SetText(a.nummer)
		ao.CreateElement("xfn:kennzeichenOK").SetText(boolText(a.ok))
		for _, t := range a.fehlertext {
			ao.CreateElement("xfn:fehlertext").SetText(t)
		}
	}
	doc.Indent(2)
	return doc.WriteToBytes()
}

// buildAnnahmeVerweigert refuses a whole message that cannot be processed.
func buildAnnahmeVerweigert(h antwortHead, fehlertext string) ([]byte, error) {
	doc, root := newAntwort(TypeAntwortAnnahmeVerweigert, h, "Annahme verweigert")
	root.CreateElement("xfn:fehlertext").SetText(fehlertext)
	doc.Indent(2)
	return doc.WriteToBytes()
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
