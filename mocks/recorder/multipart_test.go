package recorder

import (
	"bytes"
	"crypto/rand"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
)

func mtomBody(t *testing.T, attachment []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	root, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {`application/xop+xml; charset=UTF-8; type="application/soap+xml"`}, "Content-Id": {"<root>"}})
	io.WriteString(root, `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><x:Include xmlns:x="http://www.w3.org/2004/08/xop/include" href="cid:att"/></env:Body></env:Envelope>`)
	att, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/pdf"}, "Content-Id": {"<att>"}})
	att.Write(attachment)
	mw.Close()
	return `multipart/related; type="application/xop+xml"; start="<root>"; boundary=` + mw.Boundary(), buf.Bytes()
}

func TestMTOMBodyKeepsRootAndNamesParts(t *testing.T) {
	big := make([]byte, 3<<20)
	rand.Read(big)
	ct, raw := mtomBody(t, big)
	b := BodyOf(ct, raw)
	if b.Abridged == "" || b.Truncated || b.Size != int64(len(raw)) {
		t.Fatalf("abridged %q truncated %v size %d", b.Abridged, b.Truncated, b.Size)
	}
	if len(b.Text) > 4096 {
		t.Fatalf("kept %d bytes of a 3 MiB attachment", len(b.Text))
	}
	_, params, _ := mimeParams(ct)
	mr := multipart.NewReader(strings.NewReader(b.Text), params)
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	rootText, _ := io.ReadAll(p)
	if !strings.Contains(string(rootText), "cid:att") {
		t.Fatalf("root part not kept: %q", rootText)
	}
	p, err = mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.Get("Content-Id") != "<att>" {
		t.Fatalf("attachment part lost its headers: %v", p.Header)
	}
	note, _ := io.ReadAll(p)
	if !strings.Contains(string(note), "3145728 bytes, sha256:") {
		t.Fatalf("attachment part note: %q", note)
	}
}

func TestBrokenMultipartFallsBack(t *testing.T) {
	b := BodyOf(`multipart/related; boundary=xyz`, []byte("no parts at all"))
	if b.Abridged != "" || b.Text != "no parts at all" {
		t.Fatalf("%+v", b)
	}
}

func mimeParams(ct string) (string, string, error) {
	i := strings.Index(ct, "boundary=")
	return "", ct[i+len("boundary="):], nil
}
