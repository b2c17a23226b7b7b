package xta

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/konform/konform/mocks/control"
	wire "github.com/konform/konform/xta"
)

// Control is the XTA mock's control client.
type Control struct{ control.Client }

// NewControl returns a control client for the mock at baseURL (its plain-HTTP address).
func NewControl(baseURL string) *Control {
	return &Control{control.NewClient(Actor, baseURL, 5*time.Minute)}
}

// Configure sets the server certificate, the client CA and the page size; call it again to swap
// the server certificate.
func (c *Control) Configure(ctx context.Context, cfg Config) error {
	return c.Do(ctx, http.MethodPost, ConfigPath, cfg, nil)
}

// AddAccount binds reader identity readerID (of type typ, "" is "xoev") to the client
// certificate certPEM: its calls see that reader's mailbox.
func (c *Control) AddAccount(ctx context.Context, readerID, typ, certPEM string) error {
	return c.Do(ctx, http.MethodPost, AccountsPath, AccountRequest{ReaderID: readerID, Type: typ, CertPEM: certPEM}, nil)
}

// Content is one content part of an offer: from Body, or else from the file at Path.
type Content struct {
	Filename    string
	ContentType string
	Body        io.Reader
	Path        string
}

// Offer is a message to put into a mailbox.
type Offer struct {
	OfferHeader
	// MetaData is marshalled unless MetaDataXML is given.
	MetaData    *wire.MessageMetaData
	MetaDataXML []byte
	Message     Content
	Attachments []Content
}

// Put uploads the offer (streamed) and returns its MessageID.
func (c *Control) Put(ctx context.Context, o Offer) (string, error) {
	meta := o.MetaDataXML
	if meta == nil {
		if o.MetaData == nil {
			return "", errors.New("xta control Put: no MessageMetaData")
		}
		b, err := xml.Marshal(o.MetaData)
		if err != nil {
			return "", fmt.Errorf("xta control Put: %w", err)
		}
		meta = b
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() { pw.CloseWithError(writeOffer(mw, o, meta)) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+MessagesPath, pr)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("xta control Put: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("xta control Put: %d: %s", resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	var out struct {
		MessageID string `json:"messageId"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("xta control Put: %w", err)
	}
	return out.MessageID, nil
}

func writeOffer(mw *multipart.Writer, o Offer, meta []byte) error {
	hdr, err := json.Marshal(o.OfferHeader)
	if err != nil {
		return err
	}
	if err := mw.WriteField(partOffer, string(hdr)); err != nil {
		return err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+partMetaData+`"`)
	h.Set("Content-Type", "application/xml")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(meta); err != nil {
		return err
	}
	if err := writeContent(mw, partMessage, o.Message); err != nil {
		return err
	}
	for _, a := range o.Attachments {
		if err := writeContent(mw, partAttachment, a); err != nil {
			return err
		}
	}
	return mw.Close()
}

func writeContent(mw *multipart.Writer, name string, c Content) error {
	h := textproto.MIMEHeader{}
	disp := `form-data; name="` + name + `"`
	if c.Filename != "" {
		disp += `; filename=` + strconv.Quote(c.Filename)
	}
	h.Set("Content-Disposition", disp)
	h.Set("Content-Type", or(c.ContentType, "application/octet-stream"))
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	r := c.Body
	if r == nil {
		if c.Path == "" {
			return fmt.Errorf("%s %q: neither Body nor Path", name, c.Filename)
		}
		f, err := os.Open(c.Path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	_, err = io.Copy(pw, r)
	return err
}

// Message returns the state of message id.
func (c *Control) Message(ctx context.Context, id string) (MessageState, error) {
	var out MessageState
	err := c.Do(ctx, http.MethodGet, MessagesPath+"/"+url.PathEscape(id), nil, &out)
	return out, err
}

// Messages returns every message's state in offer order.
func (c *Control) Messages(ctx context.Context) ([]MessageState, error) {
	var out []MessageState
	err := c.Do(ctx, http.MethodGet, MessagesPath, nil, &out)
	return out, err
}

// Sent returns what the SUT sent over sendMessage, in order.
func (c *Control) Sent(ctx context.Context) ([]SentMessage, error) {
	var out []SentMessage
	err := c.Do(ctx, http.MethodGet, SentPath, nil, &out)
	return out, err
}

// SentContent streams content part of sent message i: part 0 is the message, 1… the
// attachments. The caller closes it.
func (c *Control) SentContent(ctx context.Context, i, part int) (io.ReadCloser, error) {
	path := SentPath + "/" + strconv.Itoa(i) + "/content/" + strconv.Itoa(part)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("xta control GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("xta control GET %s: %d: %s", path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	return resp.Body, nil
}

// AddFault arms a fault.
func (c *Control) AddFault(ctx context.Context, f Fault) error {
	return c.Do(ctx, http.MethodPost, FaultsPath, f, nil)
}

// ClearFaults disarms every fault.
func (c *Control) ClearFaults(ctx context.Context) error {
	return c.Do(ctx, http.MethodDelete, FaultsPath, nil, nil)
}

// Faults returns the armed faults with their use counts.
func (c *Control) Faults(ctx context.Context) ([]Fault, error) {
	var out []Fault
	err := c.Do(ctx, http.MethodGet, FaultsPath, nil, &out)
	return out, err
}

// Handshakes returns the failed TLS handshakes.
func (c *Control) Handshakes(ctx context.Context) ([]Handshake, error) {
	var out []Handshake
	err := c.Do(ctx, http.MethodGet, HandshakesPath, nil, &out)
	return out, err
}

// Calls returns every SOAP request as the mock read it.
func (c *Control) Calls(ctx context.Context) ([]Call, error) {
	var out []Call
	err := c.Do(ctx, http.MethodGet, CallsPath, nil, &out)
	return out, err
}
