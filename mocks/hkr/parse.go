package hkr

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Namespace is the XFinanz 3.1.0 target namespace.
const Namespace = "xFinanz310"

// Supported message types: the doppisch Anordnungen, with and without person.
const (
	TypeAODoppisch          = "kasseImport.AODoppisch.0303"
	TypeAOMitPersonDoppisch = "kasseImport.AOMitPersonDoppisch.0313"
)

type xmlCode struct {
	Code string `xml:"code"`
}

type xmlPos struct {
	APNummer               string `xml:"aPNummer"`
	Bewirtschaftungsstelle string `xml:"bewirtschaftungsstelle"`
	Buchungsdaten          struct {
		Aktenzeichen  string  `xml:"aktenzeichen"`
		Mandant       xmlCode `xml:"mandant"`
		Kassenzeichen string  `xml:"kassenzeichen"`
		Buchungstext  string  `xml:"buchungstext"`
	} `xml:"gemeinsameBuchungsdaten"`
	Zahlungsart xmlCode `xml:"zahlungsart"`
	Kontierung  struct {
		Produkt              string  `xml:"produkt"`
		Sachkonto            string  `xml:"sachkonto"`
		Gegenkonto           string  `xml:"gegenkonto"`
		Finanzrechnungskonto string  `xml:"finanzrechnungskonto"`
		KennzeichenErAr      xmlCode `xml:"kennzeichenErAr"`
	} `xml:"kontierungDoppisch"`
	Geldbetrag []struct {
		Brutto      string `xml:"brutto"`
		Faelligkeit string `xml:"faelligkeit"`
	} `xml:"geldbetrag"`
}

type xmlAO struct {
	AnordnungsDatum        string   `xml:"anordnungsDatum"`
	AnordnungsNummerExtern *string  `xml:"anordnungsNummerExtern"`
	AnzahlPositionen       string   `xml:"anzahlPositionen"`
	Gesamtbetrag           string   `xml:"gesamtbetrag"`
	Haushaltsjahr          string   `xml:"haushaltsjahr"`
	Pos                    []xmlPos `xml:"aOPosDoppisch"`
}

type xmlPersonNummern struct {
	Extern   string `xml:"personennummerExtern,omitempty"`
	Referenz string `xml:"personenreferenznummer,omitempty"`
	Intern   string `xml:"personennummerIntern,omitempty"`
}

type xmlKasseImport struct {
	Kopf *struct {
		Produkt string `xml:"produkt,attr"`
	} `xml:"nachrichtenkopf"`
	AO     []xmlAO `xml:"aODoppisch"`
	Person *struct {
		Nat []struct {
			Nummern xmlPersonNummern `xml:"personenNummern"`
			Name    string           `xml:"natuerlichePerson>nameNatuerlichePerson>familienname>name"`
		} `xml:"personNat"`
		Jur []struct {
			Nummern xmlPersonNummern `xml:"personenNummern"`
		} `xml:"personJur"`
	} `xml:"personKomplett"`
}

// parsed is a received message as far as the mock understood it.
type parsed struct {
	msgType, namespace, senderProduct string
	payer                             string
	persons                           []xmlPersonNummern
	aos                               []Anordnung
}

// errMalformed names why a body cannot be taken as an Anordnung message.
type errMalformed struct{ msg string }

func (e *errMalformed) Error() string { return e.msg }

func malformed(format string, a ...any) error { return &errMalformed{fmt.Sprintf(format, a...)} }

// parseMessage reads a kasseImport Anordnung. It checks only what it needs to book (it does
// not validate against the XSD: that is the suite's judgement).
func parseMessage(raw []byte) (*parsed, error) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	var root xml.StartElement
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(bytes.TrimSpace(raw)) == 0 {
				return nil, malformed("empty body: no XML root element")
			}
			return nil, malformed("not well-formed XML: no root element")
		}
		if err != nil {
			return nil, malformed("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	p := &parsed{msgType: root.Name.Local, namespace: root.Name.Space}
	if p.namespace != Namespace {
		return p, malformed("root element %s is in namespace %q, expected %q", p.msgType, p.namespace, Namespace)
	}
	if p.msgType != TypeAODoppisch && p.msgType != TypeAOMitPersonDoppisch {
		return p, malformed("message type %s is not supported (supported: %s, %s)", p.msgType, TypeAODoppisch, TypeAOMitPersonDoppisch)
	}
	var m xmlKasseImport
	if err := dec.DecodeElement(&m, &root); err != nil {
		return p, malformed("not well-formed XML: %v", err)
	}
	// Trailing garbage after the root element is still malformed XML.
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return p, malformed("not well-formed XML after the root element: %v", err)
		}
		if _, ok := tok.(xml.StartElement); ok {
			return p, malformed("a second root element follows %s", p.msgType)
		}
	}
	if m.Kopf == nil {
		return p, malformed("%s: nachrichtenkopf is missing", p.msgType)
	}
	p.senderProduct = m.Kopf.Produkt
	if m.Person != nil {
		for i, n := range m.Person.Nat {
			if i == 0 {
				p.payer = n.Name
			}
			p.persons = append(p.persons, n.Nummern)
		}
		for _, j := range m.Person.Jur {
			p.persons = append(p.persons, j.Nummern)
		}
	}
	if p.msgType == TypeAOMitPersonDoppisch && len(p.persons) == 0 {
		return p, malformed("%s: personKomplett with a personNat or personJur is missing", p.msgType)
	}
	if len(m.AO) == 0 {
		return p, malformed("%s: no aODoppisch element", p.msgType)
	}
	for i, x := range m.AO {
		ao, err := convertAO(x)
		if err != nil {
			return p, malformed("%s: aODoppisch[%d]: %v", p.msgType, i+1, err)
		}
		p.aos = append(p.aos, ao)
	}
	return p, nil
}

func convertAO(x xmlAO) (Anordnung, error) {
	var ao Anordnung
	if x.AnordnungsNummerExtern == nil || strings.TrimSpace(*x.AnordnungsNummerExtern) == "" {
		return ao, errors.New("anordnungsNummerExtern is missing or empty")
	}
	ao.AnordnungsNummerExtern = strings.TrimSpace(*x.AnordnungsNummerExtern)
	ao.AnordnungsDatum = strings.TrimSpace(x.AnordnungsDatum)
	ao.Haushaltsjahr = strings.TrimSpace(x.Haushaltsjahr)
	n, err := strconv.Atoi(strings.TrimSpace(x.AnzahlPositionen))
	if err != nil {
		return ao, fmt.Errorf("anzahlPositionen %q is not an integer", x.AnzahlPositionen)
	}
	ao.AnzahlPositionen = n
	ao.GesamtbetragRaw = x.Gesamtbetrag
	if ao.Gesamtbetrag, err = decimal.NewFromString(strings.TrimSpace(x.Gesamtbetrag)); err != nil {
		return ao, fmt.Errorf("gesamtbetrag %q is not a decimal", x.Gesamtbetrag)
	}
	if len(x.Pos) == 0 {
		return ao, errors.New("no aOPosDoppisch element")
	}
	for i, xp := range x.Pos {
		pos, err := convertPos(xp)
		if err != nil {
			return ao, fmt.Errorf("aOPosDoppisch[%d]: %v", i+1, err)
		}
		ao.Positions = append(ao.Positions, pos)
	}
	return ao, nil
}

func convertPos(x xmlPos) (Position, error) {
	var p Position
	n, err := strconv.Atoi(strings.TrimSpace(x.APNummer))
	if err != nil {
		return p, fmt.Errorf("aPNummer %q is not an integer", x.APNummer)
	}
	p.APNummer = n
	p.Kassenzeichen = strings.TrimSpace(x.Buchungsdaten.Kassenzeichen)
	p.Aktenzeichen = x.Buchungsdaten.Aktenzeichen
	p.Buchungstext = x.Buchungsdaten.Buchungstext
	p.Zahlungsart = strings.TrimSpace(x.Zahlungsart.Code)
	p.Coding = Coding{
		Mandant:                strings.TrimSpace(x.Buchungsdaten.Mandant.Code),
		Bewirtschaftungsstelle: strings.TrimSpace(x.Bewirtschaftungsstelle),
		Produkt:                strings.TrimSpace(x.Kontierung.Produkt),
		Sachkonto:              strings.TrimSpace(x.Kontierung.Sachkonto),
		Gegenkonto:             strings.TrimSpace(x.Kontierung.Gegenkonto),
		Finanzrechnungskonto:   strings.TrimSpace(x.Kontierung.Finanzrechnungskonto),
		KennzeichenErAr:        strings.TrimSpace(x.Kontierung.KennzeichenErAr.Code),
	}
	if len(x.Geldbetrag) == 0 {
		return p, errors.New("no geldbetrag element")
	}
	p.Amounts = []string{}
	for i, g := range x.Geldbetrag {
		d, err := decimal.NewFromString(strings.TrimSpace(g.Brutto))
		if err != nil {
			return p, fmt.Errorf("geldbetrag[%d]/brutto %q is not a decimal", i+1, g.Brutto)
		}
		if i == 0 {
			p.Faelligkeit = strings.TrimSpace(g.Faelligkeit)
		}
		p.Amount = p.Amount.Add(d)
		p.Amounts = append(p.Amounts, g.Brutto)
	}
	return p, nil
}
