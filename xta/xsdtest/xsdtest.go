// Package xsdtest validates XTA messages against the official XTA 2 Version 3 schemas in the
// specs folder (libxml2 through the kit's schemas package, so cgo). Tests only: the wire
// packages and the mock stay cgo-free.
package xsdtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/konform/konform/schemas"
	"github.com/konform/konform/soap"
	"github.com/konform/konform/specs/specstest"
)

// Folder is the XTA 2 Version 3 folder inside the specs folder.
const Folder = "xta2-v3"

var (
	once    sync.Once
	wrapper string
	werr    error
)

// wrapperSchema writes, once per test binary, a schema that imports the SOAP 1.2 envelope,
// OSCI 2, MessageMetaData and the XTA elements and exceptions from dir, so one validation covers
// an envelope and (through the envelope schema's lax wildcards) every header and body element.
func wrapperSchema(dir string) (string, error) {
	once.Do(func() {
		tmp, err := os.MkdirTemp("", "konform-xta-xsd-")
		if err != nil {
			werr = err
			return
		}
		loc := func(f string) string { return filepath.ToSlash(filepath.Join(dir, f)) }
		xtaAll := filepath.Join(tmp, "xta-all.xsd")
		xtaDoc := `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://xoev.de/transport/xta/211" elementFormDefault="qualified">
  <xs:include schemaLocation="` + loc("XTA-Webservice-Globale-Elemente.xsd") + `"/>
  <xs:include schemaLocation="` + loc("XTA-Webservice-Exceptions.xsd") + `"/>
</xs:schema>`
		all := filepath.Join(tmp, "all.xsd")
		allDoc := `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:konform:xsdtest">
  <xs:import namespace="http://www.w3.org/2003/05/soap-envelope" schemaLocation="` + loc(".xsd") + `"/>
  <xs:import namespace="http://www.w3.org/2005/08/addressing" schemaLocation="` + loc("ws-addr.xsd") + `"/>
  <xs:import namespace="http://www.osci.eu/ws/2014/10/transport" schemaLocation="` + loc("OSCI_MessageMetaData_V2.02.xsd") + `"/>
  <xs:import namespace="http://www.osci.eu/ws/2008/05/transport" schemaLocation="` + loc("OSCI2_02.xsd") + `"/>
  <xs:import namespace="http://xoev.de/transport/xta/211" schemaLocation="` + filepath.ToSlash(xtaAll) + `"/>
</xs:schema>`
		if err := os.WriteFile(xtaAll, []byte(xtaDoc), 0o600); err != nil {
			werr = err
			return
		}
		if err := os.WriteFile(all, []byte(allDoc), 0o600); err != nil {
			werr = err
			return
		}
		wrapper = all
	})
	return wrapper, werr
}

// Errors validates doc (an envelope or any single XTA, OSCI or MessageMetaData element) and
// returns its findings. It skips tb when the specs are absent (fails under CI=true).
func Errors(tb testing.TB, doc []byte) []schemas.Error {
	tb.Helper()
	dir := specstest.Dir(tb)
	specstest.File(tb, filepath.Join(Folder, "XTA.wsdl"))
	w, err := wrapperSchema(filepath.Join(dir, Folder))
	if err != nil {
		tb.Fatalf("writing the wrapper schema: %v", err)
	}
	errs, err := schemas.ValidateXML(w, doc)
	if err != nil {
		tb.Fatalf("validating against the XTA 2 Version 3 schemas: %v", err)
	}
	return errs
}

// RequireValid fails tb when doc is not valid.
func RequireValid(tb testing.TB, what string, doc []byte) {
	tb.Helper()
	if errs := Errors(tb, doc); len(errs) > 0 {
		tb.Errorf("%s is not valid against %s: %v\n--- document ---\n%s", what, Folder, errs, doc)
	}
}

// RequireValidMessage fails tb when m's envelope, with its xop:Include parts put back inline as
// base64 (the XOP infoset the schemas describe), is not valid. A fault's detail is validated
// on its own too.
func RequireValidMessage(tb testing.TB, what string, m *soap.Message) {
	tb.Helper()
	doc, err := m.InlineXML()
	if err != nil {
		tb.Errorf("%s: %v", what, err)
		return
	}
	RequireValid(tb, what, doc)
	if m.Fault != nil && len(m.Fault.Detail) > 0 {
		RequireValid(tb, fmt.Sprintf("%s (fault detail)", what), m.Fault.Detail)
	}
}
