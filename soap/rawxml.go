package soap

import (
	"bytes"
	"encoding/xml"
	"sort"
	"strconv"
)

const nsXML = "http://www.w3.org/XML/1998/namespace"

// rawWriter re-serialises decoded tokens as self-contained XML: every element declares its
// namespace, so a fragment cut out of an envelope keeps its meaning. Prefixed QNames inside text
// content are not rewritten.
type rawWriter struct {
	b     bytes.Buffer
	names []xml.Name
}

// start writes a start element. scope holds the prefixes in scope in the source document; the
// fragment's top elements declare them, so that QNames in text content (e.g.
// wsa:ProblemHeaderQName) keep their meaning.
func (w *rawWriter) start(s xml.StartElement, scope map[string]string) {
	top := len(w.names) == 0
	w.names = append(w.names, s.Name)
	w.b.WriteString("<" + s.Name.Local + ` xmlns="`)
	_ = xml.EscapeText(&w.b, []byte(s.Name.Space))
	w.b.WriteString(`"`)
	if top {
		prefixes := make([]string, 0, len(scope))
		for p := range scope {
			if p != "" && p != "xml" && p != "xmlns" {
				prefixes = append(prefixes, p)
			}
		}
		sort.Strings(prefixes)
		for _, p := range prefixes {
			w.b.WriteString(" xmlns:" + p + `="`)
			_ = xml.EscapeText(&w.b, []byte(scope[p]))
			w.b.WriteString(`"`)
		}
	}
	n := 0
	for _, a := range s.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		w.b.WriteString(" ")
		switch a.Name.Space {
		case "":
		case nsXML, "xml":
			w.b.WriteString("xml:")
		default:
			n++
			p := "_a" + strconv.Itoa(n)
			w.b.WriteString("xmlns:" + p + `="`)
			_ = xml.EscapeText(&w.b, []byte(a.Name.Space))
			w.b.WriteString(`" ` + p + ":")
		}
		w.b.WriteString(a.Name.Local + `="`)
		_ = xml.EscapeText(&w.b, []byte(a.Value))
		w.b.WriteString(`"`)
	}
	w.b.WriteString(">")
}

func (w *rawWriter) end() {
	if len(w.names) == 0 {
		return
	}
	n := w.names[len(w.names)-1]
	w.names = w.names[:len(w.names)-1]
	w.b.WriteString("</" + n.Local + ">")
}

func (w *rawWriter) text(c []byte) { _ = xml.EscapeText(&w.b, c) }
