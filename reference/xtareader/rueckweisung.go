package xtareader

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The XBau Rückweisung (prozessnachrichten.rueckweisung.G2G.1100, XBau-Kernmodul 1.2) the reader
// sends back to the author of a message whose payload is not valid against its XBau schema.
const (
	RueckweisungCode         = "prozessnachrichten.rueckweisung.G2G.1100"
	KernmodulNamespace       = "http://www.xleitstelle.de/xbau/kernmodul/1/2"
	fehlerkennzahlList       = "urn:xoev-de:xbau-kernmodul:codeliste:xbau-fehlerkennzahlen"
	kernmodulNachrichtenList = "urn:xoev-de:xbau-kernmodul:codeliste:xbau-kernmodul-nachrichten"
	// fehlerkennzahlSchema is the Fehlerkennzahl for a message that is not valid against the
	// schema. GUESS: the code list is not among the specs; group X is "formales Problem mit XML".
	fehlerkennzahlSchema = "X001"
	nilUUID              = "00000000-0000-0000-0000-000000000000"
)

// party is an XTA party (Author or Reader) as the Rückweisung's header needs it.
type party struct {
	Identifier, Type, Name, Category string
}

// rueckweisung holds what goes into one Rückweisung.
type rueckweisung struct {
	// UUID is the Rückweisung's own nachrichtenUUID.
	UUID    string
	Created time.Time
	// Reader is the author of the rejected message (the Rückweisung's leser); Author is us.
	Reader, Author party
	Product        string
	Reason         string
	Rejected       header
	RejectedAt     time.Time
	Payload        []byte
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// behoerdenkennung splits an XTA identifier "praefix:kennung" (DVDV: three letters and the
// organisation key); an identifier without a colon is the kennung under praefix "xta".
func behoerdenkennung(id string) (praefix, kennung string) {
	if p, k, ok := strings.Cut(id, ":"); ok && p != "" && k != "" {
		return p, k
	}
	return "xta", id
}

// Marshal writes the Rückweisung as an XBau document.
func (r rueckweisung) Marshal() []byte {
	var b bytes.Buffer
	esc := func(s string) { _ = xml.EscapeText(&b, []byte(s)) }
	attr := func(s string) { _ = xml.EscapeText(&b, []byte(s)) }
	code := func(elem, listURI, listVersionID, value string) {
		b.WriteString("<" + elem)
		if listURI != "" {
			b.WriteString(` listURI="`)
			attr(listURI)
			b.WriteString(`"`)
		}
		b.WriteString(` listVersionID="`)
		attr(listVersionID)
		b.WriteString(`"><code>`)
		esc(value)
		b.WriteString("</code></" + elem + ">")
	}
	kennung := func(p party) {
		praefix, k := behoerdenkennung(p.Identifier)
		b.WriteString("<behoerdenkennung>")
		code("praefix", "urn:xoev-de:bund:bmi:bit:codeliste:dvdv.praefix", "1", praefix)
		// GUESS: the code list of the kennung depends on the praefix; the DVDV organisation key list.
		code("kennung", "urn:xoev-de:bund:bmi:bit:codeliste:dvdv.organisationsschluessel", "1", k)
		b.WriteString("</behoerdenkennung>")
	}
	name := func(p party) string {
		if p.Name != "" {
			return p.Name
		}
		return p.Identifier
	}

	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString(`<xbauk:` + RueckweisungCode + ` xmlns:xbauk="` + KernmodulNamespace + `" produkt="`)
	attr(r.Product)
	b.WriteString(`" produkthersteller="Konform-Projekt" standard="XBau-Kernmodul" version="1.2">`)
	b.WriteString("<nachrichtenkopf><identifikation.nachricht><nachrichtenUUID>")
	esc(r.UUID)
	b.WriteString("</nachrichtenUUID>")
	code("nachrichtentyp", kernmodulNachrichtenList, "1.0", "1100")
	b.WriteString("<erstellungszeitpunkt>")
	esc(r.Created.UTC().Format("2006-01-02T15:04:05.000Z"))
	b.WriteString("</erstellungszeitpunkt></identifikation.nachricht>")
	b.WriteString("<leser>")
	kennung(r.Reader)
	b.WriteString("<behoerdenname>")
	esc(name(r.Reader))
	b.WriteString("</behoerdenname></leser>")
	b.WriteString("<autor>")
	kennung(r.Author)
	b.WriteString(`<erreichbarkeit>`)
	code("kanal", "urn:de:xoev:codeliste:erreichbarkeit", "1", "01")
	b.WriteString(`<kennung>xta-leser@referenz.konform.invalid</kennung></erreichbarkeit>`)
	b.WriteString(`<anschrift><gebaeude><hausnummer>1</hausnummer><postleitzahl>99999</postleitzahl>` +
		`<strasse>Referenzweg</strasse><wohnort>Musterstadt</wohnort></gebaeude></anschrift>`)
	b.WriteString("<behoerdenname>")
	esc(name(r.Author))
	b.WriteString("</behoerdenname></autor></nachrichtenkopf>")

	b.WriteString("<rueckweisungDaten><rueckweisungsgrund>")
	code("grund", fehlerkennzahlList, "1.0", fehlerkennzahlSchema)
	b.WriteString("<fehlertext>")
	esc(r.Reason)
	b.WriteString("</fehlertext></rueckweisungsgrund>")
	b.WriteString("<idNachricht><nachrichtenUUID>")
	esc(r.rejectedUUID())
	b.WriteString("</nachrichtenUUID>")
	typ := r.Rejected.typCode
	if typ == "" {
		typ = "unbekannt"
	}
	b.WriteString("<nachrichtentyp")
	if r.Rejected.typListURI != "" {
		b.WriteString(` listURI="`)
		attr(r.Rejected.typListURI)
		b.WriteString(`"`)
	}
	if r.Rejected.typListVersionID != "" {
		b.WriteString(` listVersionID="`)
		attr(r.Rejected.typListVersionID)
		b.WriteString(`"`)
	}
	b.WriteString("><code>")
	esc(typ)
	b.WriteString("</code></nachrichtentyp><erstellungszeitpunkt>")
	esc(r.rejectedCreated())
	b.WriteString("</erstellungszeitpunkt></idNachricht>")
	b.WriteString("<nachricht>")
	b.WriteString(base64.StdEncoding.EncodeToString(r.Payload))
	b.WriteString("</nachricht></rueckweisungDaten>")
	b.WriteString(`</xbauk:` + RueckweisungCode + `>`)
	return b.Bytes()
}

// rejectedUUID is the nachrichtenUUID of the rejected message; the nil UUID when it has none
// readable (the fehlertext says so).
func (r rueckweisung) rejectedUUID() string {
	if uuidPattern.MatchString(r.Rejected.nachrichtenUUID) {
		return r.Rejected.nachrichtenUUID
	}
	return nilUUID
}

// rejectedCreated is the rejected message's erstellungszeitpunkt when it is a date-time, else
// when it reached the reader.
func (r rueckweisung) rejectedCreated() string {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05"} {
		if _, err := time.Parse(layout, r.Rejected.erstellungszeitpunkt); err == nil {
			return r.Rejected.erstellungszeitpunkt
		}
	}
	return r.RejectedAt.UTC().Format("2006-01-02T15:04:05.000Z")
}

// newRueckweisung builds the Rückweisung of a rejected payload.
func newRueckweisung(now time.Time, product string, to, from party, reason string, payload []byte) rueckweisung {
	h := readHeader(payload)
	r := rueckweisung{UUID: uuid.NewString(), Created: now, Reader: to, Author: from, Product: product,
		Reason: reason, Rejected: h, RejectedAt: now, Payload: payload}
	if !uuidPattern.MatchString(h.nachrichtenUUID) {
		r.Reason = "Die nachrichtenUUID der Nachricht ist nicht lesbar. " + reason
	}
	r.Reason = truncate(latin(r.Reason), 1000)
	r.Reader.Name, r.Author.Name = latin(r.Reader.Name), latin(r.Author.Name)
	return r
}

// latin keeps the text within printable Latin-1 (the DIN SPEC 91379 strings of XBau take no
// control characters); other characters become '?'.
func latin(s string) string {
	return strings.Map(func(r rune) rune {
		if (r >= 0x20 && r <= 0x7E) || (r >= 0xA0 && r <= 0xFF) {
			return r
		}
		if r == '\n' || r == '\t' {
			return ' '
		}
		return '?'
	}, s)
}
