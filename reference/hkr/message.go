package hkr

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/defects"
	"github.com/shopspring/decimal"
)

// XFinanz 3.1.0 names used by the booking module.
const (
	Namespace               = "xFinanz310"
	TypeAODoppisch          = "kasseImport.AODoppisch.0303"
	TypeAOMitPersonDoppisch = "kasseImport.AOMitPersonDoppisch.0313"
	mandantListURI          = "urn:de:konform:codeliste:mandant"
	kennzeichenErArErtrag   = "003" // Sachkonto = Ertrag, Gegenkonto = Forderung
)

// zahlungsart maps FIT-Connect paymentMethod to the XFinanz Zahlungsart code list.
var zahlungsart = map[string]string{
	"CREDITCARD": "009", // Kreditkarte
	"PAYPAL":     "011", // PayPal
	"GIROPAY":    "001", // Überweisung (online)
	"PAYDIRECT":  "001",
	"INVOICE":    "001",
}

// anordnung is everything one kasseImport message is built from.
type anordnung struct {
	nummerExtern    string
	uebertragungsID uint64
	created         time.Time
	ord             Order
	items           []Item
	kassenzeichen   string
	coding          contract.BookingCoding
}

// buildMessage renders the Anordnung as kasseImport.AODoppisch.0303, or
// kasseImport.AOMitPersonDoppisch.0313 when the payer is known.
func buildMessage(a anordnung, d defects.Set) ([]byte, string, error) {
	msgType := TypeAODoppisch
	if strings.TrimSpace(a.ord.PayerName) != "" {
		msgType = TypeAOMitPersonDoppisch
	}
	day := a.ord.AcceptedAt.UTC()
	if day.IsZero() {
		day = a.created.UTC()
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("xfn:" + msgType)
	root.CreateAttr("xmlns:xfn", Namespace)

	kopf := root.CreateElement("xfn:nachrichtenkopf")
	kopf.CreateAttr("produkt", "Konform Referenz-Fachverfahren")
	kopf.CreateAttr("produkthersteller", "Konform")
	kopf.CreateAttr("produktversion", "1")
	kopf.CreateAttr("standard", "XFinanz")
	kopf.CreateAttr("test", "true")
	kopf.CreateAttr("version", "3.1.0")
	kopf.CreateElement("xfn:beschreibung").SetText("Annahmeanordnung Gebühr " + a.ord.CaseReference)
	kopf.CreateElement("xfn:erstellungszeitpunkt").SetText(a.created.UTC().Format(time.RFC3339))
	ve := kopf.CreateElement("xfn:verfahrenEmpfaenger")
	ve.CreateElement("xfn:uebertragungsID").SetText(strconv.FormatUint(a.uebertragungsID, 10))
	ve.CreateElement("xfn:produkt").SetText("HKR")

	total, err := gesamtbetrag(a.items, d)
	if err != nil {
		return nil, "", err
	}
	ao := root.CreateElement("xfn:aODoppisch")
	date := day.Format(time.DateOnly)
	if d.On(DefectDateTimeDates) {
		date = day.Format(time.RFC3339)
	}
	ao.CreateElement("xfn:anordnungsDatum").SetText(date)
	ao.CreateElement("xfn:anordnungsNummerExtern").SetText(a.nummerExtern)
	ao.CreateElement("xfn:anzahlPositionen").SetText(strconv.Itoa(len(a.items)))
	ao.CreateElement("xfn:gesamtbetrag").SetText(amountText(total, d))
	ao.CreateElement("xfn:haushaltsjahr").SetText(strconv.Itoa(day.Year()))
	for i, it := range a.items {
		pos := ao.CreateElement("xfn:aOPosDoppisch")
		pos.CreateElement("xfn:aPNummer").SetText(strconv.Itoa(apNummer(i, a.uebertragungsID, d)))
		pos.CreateElement("xfn:bewirtschaftungsstelle").SetText(a.coding.Bewirtschaftungsstelle)
		gb := pos.CreateElement("xfn:gemeinsameBuchungsdaten")
		if a.ord.CaseReference != "" {
			gb.CreateElement("xfn:aktenzeichen").SetText(a.ord.CaseReference)
		}
		m := gb.CreateElement("xfn:mandant")
		m.CreateAttr("listURI", mandantListURI)
		m.CreateAttr("listVersionID", "1")
		m.CreateElement("code").SetText(a.coding.Mandant)
		gb.CreateElement("xfn:kassenzeichen").SetText(a.kassenzeichen)
		text := it.Text
		if text == "" {
			text = "Gebühr " + a.ord.ServiceIdentifier
		}
		gb.CreateElement("xfn:buchungstext").SetText(text)
		gb.CreateElement("xfn:verwendungszweck").SetText(a.kassenzeichen + " " + a.ord.CaseReference)
		if code, ok := zahlungsart[a.ord.PaymentMethod]; ok {
			pos.CreateElement("xfn:zahlungsart").CreateElement("code").SetText(code)
		}
		k := pos.CreateElement("xfn:kontierungDoppisch")
		if a.coding.Produkt != "" {
			k.CreateElement("xfn:produkt").SetText(a.coding.Produkt)
		}
		if a.coding.Sachkonto != "" {
			k.CreateElement("xfn:sachkonto").SetText(a.coding.Sachkonto)
		}
		k.CreateElement("xfn:leistungsdatumVon").SetText(day.Format(time.DateOnly))
		k.CreateElement("xfn:kennzeichenstorno").SetText("false")
		k.CreateElement("xfn:kennzeichenErAr").CreateElement("code").SetText(kennzeichenErArErtrag)
		if a.coding.Haushaltsstelle != "" {
			k.CreateElement("xfn:kontierungszusatz").SetText(a.coding.Haushaltsstelle)
		}
		g := pos.CreateElement("xfn:geldbetrag")
		g.CreateElement("xfn:brutto").SetText(amountText(brutto(it.Amount, d), d))
		g.CreateElement("xfn:faelligkeit").SetText(date)
	}
	if msgType == TypeAOMitPersonDoppisch {
		pn := root.CreateElement("xfn:personKomplett").CreateElement("xfn:personNat")
		pn.CreateElement("xfn:personenNummern").CreateElement("xfn:personennummerExtern").SetText(a.ord.SubmissionID)
		name := pn.CreateElement("xfn:natuerlichePerson").CreateElement("xfn:nameNatuerlichePerson")
		// The payment platform hands one name string; splitting it into given and family
		// name would guess, so it goes whole into familienname.
		name.CreateElement("xfn:familienname").CreateElement("xfn:name").SetText(strings.TrimSpace(a.ord.PayerName))
	}
	doc.Indent(2)
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, "", fmt.Errorf("rendering %s: %w", msgType, err)
	}
	return b, msgType, nil
}

// gesamtbetrag is Σ brutto of the positions, two fraction digits.
func gesamtbetrag(items []Item, d defects.Set) (string, error) {
	if d.On(DefectFloatArithmetic) {
		var sum float64
		for _, it := range items {
			sum += it.Amount.InexactFloat64()
		}
		return strconv.FormatFloat(sum, 'f', -1, 64), nil
	}
	sum := decimal.Zero
	for _, it := range items {
		sum = sum.Add(it.Amount)
	}
	return sum.StringFixed(2), nil
}

// brutto renders one position's amount with two fraction digits.
func brutto(amount decimal.Decimal, d defects.Set) string {
	if d.On(DefectFloatArithmetic) {
		cents := int64(amount.InexactFloat64() * 100)
		return fmt.Sprintf("%d.%02d", cents/100, cents%100)
	}
	return amount.StringFixed(2)
}

// apNummer numbers positions gaplessly from 1 in each Anordnung, as the XSD documentation
// demands.
func apNummer(i int, uebertragungsID uint64, d defects.Set) int {
	if d.On(DefectGapInAPNummer) {
		// The transfer counter doubles as position counter: it runs on across Anordnungen.
		return int(uebertragungsID) + i
	}
	return i + 1
}
