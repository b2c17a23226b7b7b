package soap

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

type ping struct {
	XMLName xml.Name `xml:"urn:test Ping"`
	Text    string   `xml:"Text"`
	Data    *Include `xml:"http://www.w3.org/2004/08/xop/include Include,omitempty"`
}

type author struct {
	XMLName xml.Name `xml:"urn:test Author"`
	Name    string   `xml:",chardata"`
}

func TestRoundTripMTOM(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789"), 300_000) // 3 MB, above the threshold
	env := &Envelope{
		Addressing: Addressing{Action: "urn:act", MessageID: "urn:uuid:1", To: "https://x/y", ReplyTo: WSAAnonymous},
		Headers:    []any{author{Name: "me"}},
		Body:       ping{Text: "a<b", Data: NewInclude("part1@test")},
	}
	o, err := NewOutgoing(env, "urn:act", true, Attachment{ContentID: "part1@test", ContentType: "application/zip", Body: bytes.NewReader(big)})
	if err != nil {
		t.Fatal(err)
	}
	if ct := o.ContentType(); !strings.Contains(ct, `type="application/xop+xml"`) || !strings.Contains(ct, `start="<root>"`) || !strings.Contains(ct, `start-info="application/soap+xml; action=\"urn:act\""`) {
		t.Fatalf("content type %s", ct)
	}
	body, err := o.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Read(o.ContentType(), bytes.NewReader(body), ReadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.MTOM || m.Action != "urn:act" || m.ActionSource != ActionFromRootType {
		t.Errorf("MTOM %v action %q from %q", m.MTOM, m.Action, m.ActionSource)
	}
	if m.Addressing != env.Addressing {
		t.Errorf("addressing %+v", m.Addressing)
	}
	if m.BodyName != (xml.Name{Space: "urn:test", Local: "Ping"}) || m.Fault != nil {
		t.Errorf("body %v fault %v", m.BodyName, m.Fault)
	}
	var got ping
	if err := m.DecodeBody(&got); err != nil || got.Text != "a<b" || got.Data == nil {
		t.Fatalf("body %+v %v", got, err)
	}
	var a author
	if ok, err := m.DecodeHeader(xml.Name{Space: "urn:test", Local: "Author"}, &a); !ok || err != nil || a.Name != "me" {
		t.Errorf("header %v %v %+v", ok, err, a)
	}
	p, err := m.Part(got.Data.Href)
	if err != nil {
		t.Fatal(err)
	}
	if p.Path() == "" || p.Size != int64(len(big)) || p.ContentType != "application/zip" {
		t.Errorf("part path %q size %d type %s", p.Path(), p.Size, p.ContentType)
	}
	pb, _ := p.Bytes()
	if !bytes.Equal(pb, big) {
		t.Error("part content differs")
	}
	inl, err := m.InlineXML()
	if err != nil || bytes.Contains(inl, []byte("Include")) {
		t.Errorf("inline: %v", err)
	}
	path := p.Path()
	m.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("spooled file not removed")
	}
}

func TestPlainAndHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, err := ReadRequest(r, ReadOptions{})
		if err != nil {
			http.Error(w, err.Error(), 415)
			return
		}
		defer m.Close()
		f := &Fault{Code: CodeSender, Subcode: xml.Name{Space: NSWSA, Local: "MessageAddressingHeaderRequired"}, Reason: m.Action + " " + m.ActionSource,
			Detail: RawXML(`<x:D xmlns:x="urn:d" x:a="1">v</x:D>`)}
		o, _ := NewOutgoing(&Envelope{Addressing: Addressing{Action: WSAFaultAction, RelatesTo: m.Addressing.MessageID}, Body: f}, WSAFaultAction, true)
		WriteResponse(w, 500, o)
	}))
	defer srv.Close()
	o, _ := NewOutgoing(&Envelope{Addressing: Addressing{MessageID: "urn:m"}, Body: ping{Text: "x"}}, "urn:plain", false)
	m, status, err := Call(context.Background(), srv.Client(), srv.URL, o, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f := m.Fault
	if status != 500 || f == nil || f.Code != CodeSender || f.Subcode.Space != NSWSA || f.Subcode.Local != "MessageAddressingHeaderRequired" {
		t.Fatalf("status %d fault %+v", status, f)
	}
	if f.Reason != "urn:plain content-type" || f.Lang != "en" || m.Addressing.RelatesTo != "urn:m" {
		t.Errorf("reason %q lang %q relates %q", f.Reason, f.Lang, m.Addressing.RelatesTo)
	}
	var d struct {
		XMLName xml.Name `xml:"urn:d D"`
		A       string   `xml:"urn:d a,attr"`
		V       string   `xml:",chardata"`
	}
	if err := f.DecodeDetail(&d); err != nil || d.V != "v" || d.A != "1" {
		t.Errorf("detail %s: %+v %v", f.Detail, d, err)
	}

	// SOAPAction header when the content type has none.
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(`<Envelope xmlns="`+NS+`"><Body/></Envelope>`))
	req.Header.Set("Content-Type", "application/soap+xml")
	req.Header.Set("SOAPAction", `"urn:h"`)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ReadResponse(resp, ReadOptions{})
	resp.Body.Close()
	if err != nil || m2.Fault.Reason != "urn:h SOAPAction header" {
		t.Errorf("%v %+v", err, m2)
	}
}

func TestReadErrors(t *testing.T) {
	env := `<e:Envelope xmlns:e="` + NS + `"><e:Body><p xmlns="urn:x"><xop:Include xmlns:xop="` + NSXOP + `" href="cid:nope"/></p></e:Body></e:Envelope>`
	mp := func(start, rootType, body string) (string, string) {
		return `multipart/related; boundary=B; type="application/xop+xml"; start="` + start + `"`,
			"--B\r\nContent-ID: <root>\r\nContent-Type: " + rootType + "\r\n\r\n" + body + "\r\n--B--\r\n"
	}
	cases := []struct {
		name, ct, body string
		want           error
	}{
		{"text/xml", "text/xml", env, ErrContentType},
		{"json", "application/json", "{}", ErrContentType},
		{"bad media type", ";;", "", ErrContentType},
		{"multipart not xop", "multipart/related; boundary=B; type=text/xml", "", ErrContentType},
		{"soap 1.1", "application/soap+xml", `<s:Envelope xmlns:s="` + NS11 + `"><s:Body/></s:Envelope>`, ErrVersion},
		{"not xml", "application/soap+xml", "hello", ErrNotEnvelope},
		{"other root", "application/soap+xml", `<a/>`, ErrNotEnvelope},
		{"no body", "application/soap+xml", `<e:Envelope xmlns:e="` + NS + `"/>`, ErrNotEnvelope},
		{"include in plain", "application/soap+xml", env, ErrMissingPart},
	}
	ct, body := mp("<other>", `application/xop+xml; type="application/soap+xml"`, env)
	cases = append(cases, struct {
		name, ct, body string
		want           error
	}{"no root", ct, body, ErrNoRoot})
	ct, body = mp("<root>", `application/xop+xml; type="application/soap+xml"`, env)
	cases = append(cases, struct {
		name, ct, body string
		want           error
	}{"missing part", ct, body, ErrMissingPart})
	ct, body = mp("<root>", `text/xml`, env)
	cases = append(cases, struct {
		name, ct, body string
		want           error
	}{"root not xop", ct, body, ErrMultipart})
	for _, c := range cases {
		m, err := Read(c.ct, strings.NewReader(c.body), ReadOptions{})
		if !errors.Is(err, c.want) || m != nil {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestAttachmentFromPath(t *testing.T) {
	p := t.TempDir() + "/a.bin"
	os.WriteFile(p, []byte("file content"), 0o600)
	o, _ := NewOutgoing(&Envelope{Body: ping{Data: NewInclude("a")}}, "urn:a", true, Attachment{ContentID: "a", Path: p})
	var b bytes.Buffer
	if _, err := o.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	m, err := Read(o.ContentType(), &b, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	part, _ := m.Part("cid:a")
	rc, _ := part.Open()
	got, _ := io.ReadAll(rc)
	if string(got) != "file content" {
		t.Errorf("got %q", got)
	}
}

func FuzzRead(f *testing.F) {
	o, _ := NewOutgoing(&Envelope{Addressing: Addressing{Action: "a", MessageID: "m"}, Body: ping{Data: NewInclude("p")}}, "a", true, Attachment{ContentID: "p", Body: strings.NewReader("x")})
	b, _ := o.Bytes()
	f.Add(o.ContentType(), b)
	fo, _ := NewOutgoing(&Envelope{Body: &Fault{Code: CodeReceiver, Reason: "r", Detail: RawXML(`<d xmlns="urn:d"/>`)}}, "a", false)
	fb, _ := fo.Bytes()
	f.Add(fo.ContentType(), fb)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		m, err := Read(ct, bytes.NewReader(body), ReadOptions{Dir: dir, Threshold: 64})
		if err != nil {
			return
		}
		defer m.Close()
		var v struct{ XMLName xml.Name }
		_ = m.DecodeBody(&v)
		_, _ = m.DecodeHeader(xml.Name{Space: NSWSA, Local: "Action"}, &v)
		_, _ = m.InlineXML()
		if m.Fault != nil {
			_ = m.Fault.Error()
			_ = m.Fault.DecodeDetail(&v)
			_ = m.Fault.DetailName()
		}
	})
}

func TestBase64Part(t *testing.T) {
	env := `<e:Envelope xmlns:e="` + NS + `"><e:Body><p xmlns="urn:x"><xop:Include xmlns:xop="` + NSXOP + `" href="cid:a"/></p></e:Body></e:Envelope>`
	body := "--B\r\nContent-ID: <root>\r\nContent-Type: application/xop+xml; type=\"application/soap+xml\"\r\n\r\n" + env +
		"\r\n--B\r\nContent-ID: <a>\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8g\r\nd29ybGQ=\r\n--B--\r\n"
	m, err := Read(`multipart/related; boundary=B; type="application/xop+xml"`, strings.NewReader(body), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Part("cid:a")
	if b, _ := p.Bytes(); string(b) != "hello world" {
		t.Errorf("got %q", b)
	}
}
