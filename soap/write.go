package soap

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
)

// Attachment is an MTOM part to write after the root: from Body, or else from the file at Path.
// It is copied while writing, never held whole.
type Attachment struct {
	ContentID   string
	ContentType string // application/octet-stream when empty
	Body        io.Reader
	Path        string
}

// Outgoing is a SOAP message to write: an envelope, its SOAP action and, for MTOM, its parts.
type Outgoing struct {
	Envelope    []byte
	Action      string
	MTOM        bool
	Attachments []Attachment

	boundary string
}

// NewOutgoing marshals env into an outgoing message.
func NewOutgoing(env *Envelope, action string, mtom bool, atts ...Attachment) (*Outgoing, error) {
	b, err := env.Marshal()
	if err != nil {
		return nil, err
	}
	return &Outgoing{Envelope: b, Action: action, MTOM: mtom, Attachments: atts}, nil
}

func soapType(action string) string {
	if action == "" {
		return MediaSOAP
	}
	return mime.FormatMediaType(MediaSOAP, map[string]string{"action": action})
}

// ContentType is the media type the message is written with.
func (o *Outgoing) ContentType() string {
	if !o.MTOM {
		return mime.FormatMediaType(MediaSOAP, map[string]string{"charset": "UTF-8", "action": o.Action})
	}
	if o.boundary == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		o.boundary = "MIMEBoundary_" + hex.EncodeToString(b[:])
	}
	return mime.FormatMediaType(MediaMultipart, map[string]string{
		"type":       MediaXOP,
		"start":      "<" + RootContentID + ">",
		"start-info": soapType(o.Action),
		"boundary":   o.boundary,
	})
}

// WriteTo writes the message body: the envelope, or the MTOM multipart with its parts streamed.
// Call ContentType first or after; both agree on the boundary.
func (o *Outgoing) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := o.write(cw)
	return cw.n, err
}

func (o *Outgoing) write(w io.Writer) error {
	if !o.MTOM {
		if len(o.Attachments) > 0 {
			return errors.New("soap: attachments need MTOM")
		}
		_, err := w.Write(o.Envelope)
		return err
	}
	o.ContentType()
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(o.boundary); err != nil {
		return err
	}
	root := textproto.MIMEHeader{}
	root.Set("Content-Type", mime.FormatMediaType(MediaXOP, map[string]string{"charset": "UTF-8", "type": soapType(o.Action)}))
	root.Set("Content-Transfer-Encoding", "binary")
	root.Set("Content-ID", "<"+RootContentID+">")
	pw, err := mw.CreatePart(root)
	if err != nil {
		return err
	}
	if _, err := pw.Write(o.Envelope); err != nil {
		return err
	}
	for i, a := range o.Attachments {
		if err := writeAttachment(mw, a); err != nil {
			return fmt.Errorf("soap: part %d (%s): %w", i+1, a.ContentID, err)
		}
	}
	return mw.Close()
}

func writeAttachment(mw *multipart.Writer, a Attachment) error {
	if a.ContentID == "" {
		return errors.New("no Content-ID")
	}
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", ct)
	h.Set("Content-Transfer-Encoding", "binary")
	h.Set("Content-ID", "<"+a.ContentID+">")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	r := a.Body
	if r == nil {
		if a.Path == "" {
			return errors.New("neither Body nor Path")
		}
		f, err := os.Open(a.Path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	_, err = io.Copy(pw, r)
	return err
}

// Bytes writes the whole message into memory (for tests and small messages).
func (o *Outgoing) Bytes() ([]byte, error) {
	var b bytes.Buffer
	_, err := o.WriteTo(&b)
	return b.Bytes(), err
}

// NewRequest returns a POST of o to url; the body streams from o while the request is sent.
// It sets Content-Type and the HTTP SOAPAction header.
func NewRequest(ctx context.Context, url string, o *Outgoing) (*http.Request, error) {
	ct := o.ContentType()
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, pr)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ct)
	if o.Action != "" {
		req.Header.Set("SOAPAction", `"`+o.Action+`"`)
	}
	req.GetBody = nil
	go func() { pw.CloseWithError(o.write(pw)) }()
	return req, nil
}

// WriteResponse writes o as an HTTP response with status.
func WriteResponse(w http.ResponseWriter, status int, o *Outgoing) error {
	w.Header().Set("Content-Type", o.ContentType())
	w.WriteHeader(status)
	return o.write(w)
}

// Call posts o to url with client and reads the answer (MTOM or plain) as a Message, also when
// the status is not 200 (a fault comes with 500 or 400). A body that is not SOAP is an error
// naming the status.
func Call(ctx context.Context, client *http.Client, url string, o *Outgoing, opt ReadOptions) (*Message, int, error) {
	req, err := NewRequest(ctx, url, o)
	if err != nil {
		return nil, 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	m, err := ReadResponse(resp, opt)
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("soap: HTTP %d from %s: %w", resp.StatusCode, url, err)
	}
	return m, resp.StatusCode, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
