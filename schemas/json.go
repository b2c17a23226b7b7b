package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	jsonMu    sync.Mutex
	jsonCache = map[string]*jsonschema.Schema{}
)

func compiledJSON(schemaPath string) (*jsonschema.Schema, error) {
	abs, err := filepath.Abs(schemaPath)
	if err != nil {
		return nil, err
	}
	jsonMu.Lock()
	defer jsonMu.Unlock()
	if s, ok := jsonCache[abs]; ok {
		return s, nil
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	s, err := c.Compile(abs)
	if err != nil {
		return nil, fmt.Errorf("JSON schema %s does not compile: %w", schemaPath, err)
	}
	jsonCache[abs] = s
	return s, nil
}

// ValidateJSON validates doc against the JSON Schema (2020-12 unless the schema says otherwise)
// at schemaPath. Each failing leaf becomes an Error on the line where the offending value starts.
func ValidateJSON(schemaPath string, doc []byte) ([]Error, error) {
	s, err := compiledJSON(schemaPath)
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		line := 0
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line = bytes.Count(doc[:min(int(se.Offset), len(doc))], []byte("\n")) + 1
		}
		return []Error{{Line: line, Message: "not well-formed JSON: " + err.Error()}}, nil
	}
	err = s.Validate(inst)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, fmt.Errorf("JSON validation: %w", err)
	}
	lines := pointerLines(doc)
	var out []Error
	var walk func(u jsonschema.OutputUnit)
	walk = func(u jsonschema.OutputUnit) {
		if u.Error != nil && len(u.Errors) == 0 {
			loc := u.InstanceLocation
			if loc == "" {
				loc = "/"
			}
			out = append(out, Error{Line: lines[u.InstanceLocation], Message: fmt.Sprintf("%s: %s (%s)", loc, u.Error.String(), u.KeywordLocation)})
		}
		for _, c := range u.Errors {
			walk(c)
		}
	}
	walk(*ve.BasicOutput())
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out, nil
}

// pointerLines maps each JSON pointer in doc to the line its value starts on.
func pointerLines(doc []byte) map[string]int {
	lines := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(doc))
	lineAt := func(off int64) int {
		i := int(off)
		for i < len(doc) && strings.ContainsRune(" \t\r\n,:", rune(doc[i])) {
			i++
		}
		return bytes.Count(doc[:min(i, len(doc))], []byte("\n")) + 1
	}
	var value func(ptr string) error
	value = func(ptr string) error {
		lines[ptr] = lineAt(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := k.(string)
				esc := strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
				if err := value(ptr + "/" + esc); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := value(ptr + "/" + strconv.Itoa(i)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	if err := value(""); err != nil && !errors.Is(err, io.EOF) {
		return lines
	}
	return lines
}
