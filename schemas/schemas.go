// Package schemas validates message data against XML Schema 1.0 (libxml2 through cgo) and JSON
// Schema 2020-12. It is for the CLI and the suites; the mocks stay cgo-free, and the reference
// validates with a libxml2 wrapper of its own (reference/xsd).
package schemas

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	xsdvalidate "github.com/terminalstatic/go-xsd-validate"
)

// Error is one finding in the validated document.
type Error struct {
	File    string
	Line    int
	Message string
}

func (e Error) String() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Message)
}

var (
	initOnce sync.Once
	initErr  error

	// mu serialises libxml2 use: schema compilation and validation share global error state.
	mu    sync.Mutex
	cache = map[string]*xsdvalidate.XsdHandler{}
)

func libxml2() error {
	initOnce.Do(func() {
		if err := xsdvalidate.Init(); err != nil {
			var le xsdvalidate.Libxml2Error
			if !errors.As(err, &le) || !strings.Contains(err.Error(), "already initialized") {
				initErr = fmt.Errorf("libxml2 init: %w", err)
			}
		}
	})
	return initErr
}

// compiled returns the cached compiled schema of xsdPath, compiling it on first use.
// The caller holds mu.
func compiled(xsdPath string) (*xsdvalidate.XsdHandler, error) {
	abs, err := filepath.Abs(xsdPath)
	if err != nil {
		return nil, err
	}
	if h, ok := cache[abs]; ok {
		return h, nil
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("XML schema: %w", err)
	}
	h, err := xsdvalidate.NewXsdHandlerUrl(abs, xsdvalidate.ParsErrDefault)
	if err != nil {
		return nil, fmt.Errorf("XML schema %s does not compile: %w", xsdPath, err)
	}
	cache[abs] = h
	return h, nil
}

var lineInMessage = regexp.MustCompile(`(?i)line[: ]+(\d+)`)

// ValidateXML validates doc against the XSD at xsdPath. Findings in the document come back as
// []Error with their line (File is left empty for the caller to fill in); the error is for
// problems with the schema itself or libxml2.
func ValidateXML(xsdPath string, doc []byte) ([]Error, error) {
	if err := libxml2(); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	h, err := compiled(xsdPath)
	if err != nil {
		return nil, err
	}
	err = h.ValidateMem(doc, xsdvalidate.ParsErrVerbose)
	if err == nil {
		return nil, nil
	}
	var ve xsdvalidate.ValidationError
	var pe xsdvalidate.XmlParserError
	switch {
	case errors.As(err, &ve):
		out := make([]Error, 0, len(ve.Errors))
		for _, e := range ve.Errors {
			out = append(out, Error{Line: e.Line, Message: e.Message})
		}
		return out, nil
	case errors.As(err, &pe):
		msg := strings.TrimSpace(pe.Error())
		line := 0
		if m := lineInMessage.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return []Error{{Line: line, Message: "not well-formed XML: " + strings.Join(strings.Fields(msg), " ")}}, nil
	default:
		return nil, fmt.Errorf("XML validation: %w", err)
	}
}
