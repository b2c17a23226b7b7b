package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/runenv"
	"github.com/konform/konform/source"
	"github.com/konform/konform/specs"
)

var evidenceClient = &http.Client{Timeout: 10 * time.Second}

// moduleRoot finds the Konform source tree above the working folder; the docker runtime builds
// its images from it.
func moduleRoot() (string, bool) {
	root, err := source.Root()
	return root, err == nil
}

// defaultSchemas returns $KONFORM_SPECS, or ../shared/specs beside the source tree, or the
// folder `schemas fetch` fills when it exists, or "". A set $KONFORM_SPECS is never passed over.
func defaultSchemas() string {
	if d, ok := specs.Dir(); ok {
		return d
	}
	if d, ok := specs.UserDir(); ok && os.Getenv(specs.EnvVar) == "" {
		return d
	}
	return ""
}

// servicesOf lists the FIT-Connect services the fixtures are addressed to, with their schemas;
// the SUT's destination serves exactly these.
func servicesOf(dir string) ([]runenv.Service, error) {
	all, err := fixtures.Load(dir)
	if err != nil {
		return nil, err
	}
	byID := map[string]*runenv.Service{}
	for _, f := range all {
		m := f.Manifest
		s := byID[m.Service.Identifier]
		if s == nil {
			s = &runenv.Service{Identifier: m.Service.Identifier, Name: m.Service.Name}
			byID[m.Service.Identifier] = s
		}
		mime := m.DataMimeType
		if mime == "" {
			mime = "application/xml"
		}
		seen := false
		for _, sch := range s.Schemas {
			seen = seen || sch.URI == m.SchemaURI
		}
		if !seen {
			s.Schemas = append(s.Schemas, runenv.SubmissionSchema{URI: m.SchemaURI, MimeType: mime})
		}
	}
	out := make([]runenv.Service, 0, len(byID))
	for _, s := range byID {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Identifier < out[j].Identifier })
	return out, nil
}

// XTA Qualifier values of the XBau messages (xta-reader-anchors.md §4): the DVDV service of
// XBau 2.3 for building authorities, and its business scenario.
const (
	xtaServiceXBau23 = "http://www.xleitstelle.de/xbau/2/3/XBau23-BGV-BH2BAB.wsdl"
	xtaScenarioXBau  = "XBAU_DATA"
	xtaXBauNamespace = "http://www.xleitstelle.de/xbau/"
)

// xtaServicesOf lists what the SUT serves over XTA for the fixtures: per XÖV message the
// MessageType code (the root element's local name) and payloadSchema (its namespace).
func xtaServicesOf(dir string) ([]contract.XTAService, error) {
	all, err := fixtures.Load(dir)
	if err != nil {
		return nil, err
	}
	svc := contract.XTAService{Service: xtaServiceXBau23, BusinessScenario: xtaScenarioXBau}
	seen := map[contract.XTAMessageType]bool{}
	for _, f := range all {
		r, _, err := f.Data()
		if err != nil {
			return nil, fmt.Errorf("fixture %s: %w", f.Manifest.ID, err)
		}
		root, err := rootElement(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("fixture %s: data: %w", f.Manifest.ID, err)
		}
		if !strings.HasPrefix(root.Space, xtaXBauNamespace) {
			continue // only XBau travels over XTA in the kit's corpus
		}
		mt := contract.XTAMessageType{Code: root.Local, PayloadSchema: root.Space}
		if !seen[mt] {
			seen[mt] = true
			svc.MessageTypes = append(svc.MessageTypes, mt)
		}
	}
	sort.Slice(svc.MessageTypes, func(i, j int) bool { return svc.MessageTypes[i].Code < svc.MessageTypes[j].Code })
	return []contract.XTAService{svc}, nil
}

func rootElement(r io.Reader) (xml.Name, error) {
	dec := xml.NewDecoder(r)
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.Name{}, fmt.Errorf("no root element: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name, nil
		}
	}
}
