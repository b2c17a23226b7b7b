// Package xsd validates XML documents against XML Schema 1.0 with libxml2 (cgo) for the
// reference. It is the reference's own: the kit's schemas package is not shared with it.
package xsd

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	xsdvalidate "github.com/terminalstatic/go-xsd-validate"
)

// NotWellFormedError reports a document libxml2 could not parse.
type NotWellFormedError struct{ Detail string }

func (e *NotWellFormedError) Error() string { return "not well-formed XML: " + e.Detail }

// InvalidError reports a well-formed document that is not valid against the schema.
type InvalidError struct{ Findings []string }

func (e *InvalidError) Error() string {
	return "not valid against the XSD: " + strings.Join(e.Findings, "; ")
}

var (
	initOnce sync.Once
	initErr  error
	// mu serialises libxml2: schema compilation and validation share its global error state.
	mu sync.Mutex
)

func libxml2() error {
	initOnce.Do(func() {
		if err := xsdvalidate.Init(); err != nil && !strings.Contains(err.Error(), "already initialized") {
			initErr = fmt.Errorf("libxml2 init: %w", err)
		}
	})
	return initErr
}

// Schema is one compiled XSD.
type Schema struct {
	path string
	h    *xsdvalidate.XsdHandler
}

// Load compiles the XSD at path, with the files it includes and imports beside it.
func Load(path string) (*Schema, error) {
	if err := libxml2(); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	h, err := xsdvalidate.NewXsdHandlerUrl(path, xsdvalidate.ParsErrDefault)
	if err != nil {
		return nil, fmt.Errorf("XSD %s does not compile: %s", path, oneLine(err.Error()))
	}
	return &Schema{path: path, h: h}, nil
}

// Validate returns nil for a valid document, a *NotWellFormedError or an *InvalidError for a
// bad one, and any other error when libxml2 itself failed.
func (s *Schema) Validate(doc []byte) error {
	mu.Lock()
	defer mu.Unlock()
	err := s.h.ValidateMem(doc, xsdvalidate.ParsErrVerbose)
	var ve xsdvalidate.ValidationError
	var pe xsdvalidate.XmlParserError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		out := &InvalidError{}
		for _, e := range ve.Errors {
			out.Findings = append(out.Findings, fmt.Sprintf("line %d: %s", e.Line, oneLine(e.Message)))
		}
		return out
	case errors.As(err, &pe):
		return &NotWellFormedError{Detail: oneLine(pe.Error())}
	default:
		return fmt.Errorf("validating against %s: %w", s.path, err)
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
