package xtareader

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/konform/konform/reference/xsd"
)

// XBauXSDDir is the folder of the XBau 2.3.1 XSDs inside the schema folder (laid out like the
// specs folder).
const XBauXSDDir = "xbau-2.3.1/xsd_dev"

// RueckweisungXSD is the XSD file (inside XBauXSDDir) that declares the Rückweisung 1100.
const RueckweisungXSD = "xbau-kernmodul-nachrichten.xsd"

// schemas compiles the XBau XSD of a message family on first use: the MessageType code's first
// part names the file ("baugenehmigung.antrag.0200" → xbau-nachrichten-baugenehmigung.xsd,
// "prozessnachrichten.…" → the Kernmodul's messages).
type xbauSchemas struct {
	dir string
	mu  sync.Mutex
	got map[string]*xsd.Schema
}

func newSchemas(schemaDir string) *xbauSchemas {
	return &xbauSchemas{dir: filepath.Join(schemaDir, filepath.FromSlash(XBauXSDDir)), got: map[string]*xsd.Schema{}}
}

// xsdFile is the XSD file of the message family of code, or "" when XBau has none.
func xsdFile(code string) string {
	family, _, _ := strings.Cut(code, ".")
	if family == "" || strings.ContainsAny(family, `/\`) {
		return ""
	}
	if family == "prozessnachrichten" {
		return RueckweisungXSD
	}
	return "xbau-nachrichten-" + family + ".xsd"
}

// forCode returns the compiled XSD for a MessageType code.
func (s *xbauSchemas) forCode(code string) (*xsd.Schema, error) {
	file := xsdFile(code)
	if file == "" {
		return nil, fmt.Errorf("no XBau schema for message type %q", code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if x := s.got[file]; x != nil {
		return x, nil
	}
	path := filepath.Join(s.dir, file)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no XBau schema for message type %q: %w", code, err)
	}
	x, err := xsd.Load(path)
	if err != nil {
		return nil, err
	}
	s.got[file] = x
	return x, nil
}

// Check loads the XSDs of the given MessageType codes (at start: a missing schema is a
// configuration error, not a surprise at the first message).
func (s *xbauSchemas) Check(codes []string) error {
	for _, c := range codes {
		if _, err := s.forCode(c); err != nil {
			return err
		}
	}
	return nil
}

// invalidPayload says why a payload is not a valid XÖV message of its type.
type invalidPayload struct{ reason string }

func (e *invalidPayload) Error() string { return e.reason }

// validate checks the payload against the XBau XSD of code and that its root element is code.
// It returns an *invalidPayload for a payload to reject, another error when it could not check.
func (s *xbauSchemas) validate(code string, payload []byte) error {
	x, err := s.forCode(code)
	if err != nil {
		return &invalidPayload{reason: err.Error()}
	}
	if err := x.Validate(payload); err != nil {
		var nw *xsd.NotWellFormedError
		var inv *xsd.InvalidError
		if errors.As(err, &nw) || errors.As(err, &inv) {
			return &invalidPayload{reason: truncate(err.Error(), 400)}
		}
		return err
	}
	h := readHeader(payload)
	if h.rootLocal != code {
		return &invalidPayload{reason: fmt.Sprintf("root element %s is not the message type %s", h.rootLocal, code)}
	}
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// header is what the reader reads of an XÖV message's nachrichtenkopf, leniently: also from a
// message that is not schema-valid, as far as it is well-formed.
type header struct {
	rootLocal, rootSpace string
	nachrichtenUUID      string
	typCode              string
	typListURI           string
	typListVersionID     string
	erstellungszeitpunkt string
}

// readHeader reads the root element and identifikation.nachricht of the nachrichtenkopf.
func readHeader(payload []byte) header {
	var h header
	d := xml.NewDecoder(bytes.NewReader(payload))
	var path []string
	for {
		tok, err := d.Token()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return h
			}
			return h
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(path) == 0 {
				h.rootLocal, h.rootSpace = t.Name.Local, t.Name.Space
			}
			path = append(path, t.Name.Local)
			if strings.HasSuffix(strings.Join(path, "/"), "nachrichtenkopf/identifikation.nachricht/nachrichtentyp") && len(path) == 4 {
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "listURI":
						h.typListURI = a.Value
					case "listVersionID":
						h.typListVersionID = a.Value
					}
				}
			}
		case xml.EndElement:
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
			if len(path) == 2 && path[1] == "nachrichtenkopf" && t.Name.Local == "identifikation.nachricht" {
				return h
			}
		case xml.CharData:
			p := strings.Join(path, "/")
			v := strings.TrimSpace(string(t))
			switch {
			case len(path) == 4 && strings.HasSuffix(p, "/nachrichtenkopf/identifikation.nachricht/nachrichtenUUID"):
				h.nachrichtenUUID += v
			case len(path) == 4 && strings.HasSuffix(p, "/nachrichtenkopf/identifikation.nachricht/erstellungszeitpunkt"):
				h.erstellungszeitpunkt += v
			case len(path) == 5 && strings.HasSuffix(p, "/nachrichtenkopf/identifikation.nachricht/nachrichtentyp/code"):
				h.typCode += v
			}
		}
	}
}
