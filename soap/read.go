package soap

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// ReadOptions tune a reader.
type ReadOptions struct {
	// Dir receives parts larger than Threshold; "" is os.TempDir().
	Dir string
	// Threshold is the largest part held in memory; 0 is DefaultThreshold.
	Threshold int64
	// SOAPAction is the HTTP SOAPAction header, used when the content type carries no action.
	SOAPAction string
}

// Where Message.Action was found.
const (
	ActionFromRootType   = "root part type"    // action parameter of the root part's type parameter
	ActionFromStartInfo  = "start-info"        // action parameter of multipart/related start-info
	ActionFromMediaType  = "content-type"      // action parameter of application/soap+xml
	ActionFromHTTPHeader = "SOAPAction header" // HTTP SOAPAction
)

// Message is a SOAP 1.2 message read. Close removes its spooled files.
type Message struct {
	// ContentType is the media type as received.
	ContentType string
	// MTOM is true for multipart/related; type="application/xop+xml".
	MTOM bool
	// Action is the SOAP action found in the transport (not wsa:Action), ActionSource where.
	Action       string
	ActionSource string
	Addressing   Addressing
	HeaderNames  []xml.Name
	// BodyName is the name of the body's first element; zero for an empty body.
	BodyName xml.Name
	// Fault is the body's env:Fault, or nil.
	Fault *Fault
	// Includes are the hrefs of every xop:Include in the envelope, in document order.
	Includes []string
	// Root is the part holding the envelope; Parts are the others in order.
	Root  *Part
	Parts []*Part
}

// ReadRequest reads an HTTP request's body as a SOAP message.
func ReadRequest(r *http.Request, opt ReadOptions) (*Message, error) {
	if opt.SOAPAction == "" {
		opt.SOAPAction = r.Header.Get("SOAPAction")
	}
	return Read(r.Header.Get("Content-Type"), r.Body, opt)
}

// ReadResponse reads an HTTP response's body as a SOAP message.
func ReadResponse(resp *http.Response, opt ReadOptions) (*Message, error) {
	return Read(resp.Header.Get("Content-Type"), resp.Body, opt)
}

// Read reads a SOAP 1.2 message with media type contentType from body: MTOM or plain
// application/soap+xml.
func Read(contentType string, body io.Reader, opt ReadOptions) (m *Message, err error) {
	mt, params, perr := mime.ParseMediaType(contentType)
	if perr != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrContentType, contentType, perr)
	}
	m = &Message{ContentType: contentType}
	defer func() {
		if err != nil {
			m.Close()
			m = nil
		}
	}()
	switch mt {
	case MediaSOAP:
		if m.Root, err = spool(body, opt.Dir, opt.Threshold); err != nil {
			return m, err
		}
		m.Root.ContentType = contentType
		m.setAction(params["action"], ActionFromMediaType)
	case MediaMultipart:
		if err = m.readMultipart(params, body, opt); err != nil {
			return m, err
		}
	case "text/xml":
		return m, fmt.Errorf("%w: text/xml is SOAP 1.1's media type; SOAP 1.2 is application/soap+xml", ErrContentType)
	default:
		return m, fmt.Errorf("%w: %s (want %s or %s; type=%q)", ErrContentType, mt, MediaSOAP, MediaMultipart, MediaXOP)
	}
	m.setAction(unquote(opt.SOAPAction), ActionFromHTTPHeader)
	rc, err := m.Root.Open()
	if err != nil {
		return m, err
	}
	defer rc.Close()
	s, err := scanEnvelope(rc)
	if err != nil {
		return m, err
	}
	m.Addressing, m.HeaderNames, m.BodyName, m.Fault, m.Includes = s.addressing, s.headerNames, s.bodyName, s.fault, s.includes
	for _, href := range m.Includes {
		if _, err := m.Part(href); err != nil {
			return m, err
		}
	}
	return m, nil
}

func (m *Message) readMultipart(params map[string]string, body io.Reader, opt ReadOptions) error {
	if t := params["type"]; t != MediaXOP {
		return fmt.Errorf("%w: multipart/related with type=%q, not %q (not MTOM)", ErrContentType, t, MediaXOP)
	}
	if params["boundary"] == "" {
		return fmt.Errorf("%w: no boundary parameter", ErrMultipart)
	}
	m.MTOM = true
	start := trimAngle(params["start"])
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMultipart, err)
		}
		var body io.Reader = p
		switch strings.ToLower(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding"))) {
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, &lineStripper{r: p})
		case "quoted-printable":
			body = quotedprintable.NewReader(p)
		}
		part, err := spool(body, opt.Dir, opt.Threshold)
		p.Close()
		if err != nil {
			return fmt.Errorf("%w: part %d: %v", ErrMultipart, len(m.Parts)+1, err)
		}
		part.Header = textproto.MIMEHeader(p.Header)
		part.ContentID = trimAngle(p.Header.Get("Content-ID"))
		part.ContentType = p.Header.Get("Content-Type")
		if m.Root == nil && (start == "" || part.ContentID == start) {
			m.Root = part
			continue
		}
		m.Parts = append(m.Parts, part)
	}
	if m.Root == nil {
		if start == "" {
			return fmt.Errorf("%w: the multipart body has no parts", ErrNoRoot)
		}
		return fmt.Errorf("%w: start=%q names no part", ErrNoRoot, params["start"])
	}
	rt, rparams, err := mime.ParseMediaType(m.Root.ContentType)
	if err != nil || rt != MediaXOP {
		return fmt.Errorf("%w: root part has Content-Type %q, not %s", ErrMultipart, m.Root.ContentType, MediaXOP)
	}
	if t := rparams["type"]; t != "" {
		tt, tparams, err := mime.ParseMediaType(t)
		if err != nil || tt != MediaSOAP {
			return fmt.Errorf("%w: root part type=%q, not %s (SOAP 1.2)", ErrContentType, t, MediaSOAP)
		}
		m.setAction(tparams["action"], ActionFromRootType)
	}
	if si := params["start-info"]; si != "" {
		if _, sp, err := mime.ParseMediaType(si); err == nil {
			m.setAction(sp["action"], ActionFromStartInfo)
		}
	}
	return nil
}

func (m *Message) setAction(a, source string) {
	if m.Action == "" && a != "" {
		m.Action, m.ActionSource = a, source
	}
}

// Part returns the part an xop:Include href ("cid:…") names.
func (m *Message) Part(href string) (*Part, error) {
	raw, ok := strings.CutPrefix(href, "cid:")
	if !ok {
		return nil, fmt.Errorf("%w for href %q: not a cid: URL", ErrMissingPart, href)
	}
	cid, err := url.PathUnescape(raw)
	if err != nil {
		cid = raw
	}
	for _, p := range m.Parts {
		if p.ContentID != "" && (p.ContentID == cid || p.ContentID == raw) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w for href %q", ErrMissingPart, href)
}

// DecodeBody unmarshals the body's first element into v.
func (m *Message) DecodeBody(v any) error {
	rc, err := m.Root.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	start, ok, err := findBody(d)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("soap: the body is empty")
	}
	if err := d.DecodeElement(v, &start); err != nil {
		return fmt.Errorf("soap: decoding body element {%s}%s: %w", start.Name.Space, start.Name.Local, err)
	}
	return nil
}

// DecodeHeader unmarshals the first header block named name into v; found is false when there is none.
func (m *Message) DecodeHeader(name xml.Name, v any) (found bool, err error) {
	rc, err := m.Root.Open()
	if err != nil {
		return false, err
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	depth, inHeader := 0, false
	for {
		t, err := d.Token()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("%w: %v", ErrNotEnvelope, err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				if t.Name.Space == NS && t.Name.Local == "Body" {
					return false, nil
				}
				inHeader = t.Name.Space == NS && t.Name.Local == "Header"
			}
			if depth == 3 && inHeader && t.Name == name {
				if err := d.DecodeElement(v, &t); err != nil {
					return true, fmt.Errorf("soap: decoding header {%s}%s: %w", name.Space, name.Local, err)
				}
				return true, nil
			}
		case xml.EndElement:
			depth--
		}
	}
}

// Close removes the files the message's parts were spooled to.
func (m *Message) Close() error {
	var errs []error
	if err := m.Root.remove(); err != nil {
		errs = append(errs, err)
	}
	for _, p := range m.Parts {
		if err := p.remove(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func trimAngle(s string) string {
	s = strings.TrimSpace(s)
	return strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// lineStripper drops CR and LF, which a base64 Content-Transfer-Encoding breaks lines with.
type lineStripper struct{ r io.Reader }

func (l *lineStripper) Read(p []byte) (int, error) {
	for {
		n, err := l.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
