package hkr

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

type antwortXML struct {
	XMLName xml.Name
	AO      []struct {
		Pos []struct {
			APNummer   string   `xml:"aPNummer"`
			OK         string   `xml:"kennzeichenOK"`
			Fehlertext []string `xml:"fehlertext"`
		} `xml:"antwortAnordnungsposition"`
		Nummer     string   `xml:"anordnungsnummerExtern"`
		OK         string   `xml:"kennzeichenOK"`
		Fehlertext []string `xml:"fehlertext"`
	} `xml:"antwortAO"`
	Fehlertext []string `xml:"fehlertext"`
}

type antwortResult struct {
	ok         bool
	fehlertext []string
}

func xsBool(s string) bool {
	s = strings.TrimSpace(s)
	return s == "true" || s == "1"
}

// parseAntwort reads the HKR system's answer for the Anordnung nummer. An error means the
// answer says nothing usable about it.
func parseAntwort(body []byte, nummer string) (antwortResult, error) {
	var a antwortXML
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&a); err != nil {
		return antwortResult{}, fmt.Errorf("HKR answer is not XML: %v", err)
	}
	if a.XMLName.Space != Namespace {
		return antwortResult{}, fmt.Errorf("HKR answer %s is not in namespace %s", a.XMLName.Local, Namespace)
	}
	if strings.HasPrefix(a.XMLName.Local, "antwort.AnnahmeVerweigert.") {
		texts := append([]string{}, a.Fehlertext...)
		if len(texts) == 0 {
			texts = []string{"Annahme verweigert (ohne Fehlertext)"}
		}
		return antwortResult{fehlertext: texts}, nil
	}
	for _, ao := range a.AO {
		if strings.TrimSpace(ao.Nummer) != nummer {
			continue
		}
		res := antwortResult{ok: xsBool(ao.OK), fehlertext: append([]string{}, ao.Fehlertext...)}
		for _, p := range ao.Pos {
			if !xsBool(p.OK) {
				res.ok = false
				for _, t := range p.Fehlertext {
					res.fehlertext = append(res.fehlertext, "Position "+strings.TrimSpace(p.APNummer)+": "+t)
				}
			}
		}
		if !res.ok && len(res.fehlertext) == 0 {
			res.fehlertext = []string{"kennzeichenOK=false (ohne Fehlertext)"}
		}
		return res, nil
	}
	return antwortResult{}, fmt.Errorf("HKR answer %s has no antwortAO for %s", a.XMLName.Local, nummer)
}
