package main

import (
	"net/http"
	"os"
	"sort"
	"time"

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
