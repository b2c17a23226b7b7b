package xta_test

import (
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"

	mock "github.com/konform/konform/mocks/xta"
	"github.com/konform/konform/xta"
)

// A 40 MB message goes in over the control API and out over getMessage, streamed both ways.
func TestLargeMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("40 MB round trip")
	}
	e := start(t, 0)
	a := e.reader(readerA)
	a.hc.Transport = a.hc.Transport.(*capturing).base // no capture: it would hold the body
	path := filepath.Join(t.TempDir(), "big.zip")
	f, _ := os.Create(path)
	h := sha256.New()
	chunk := make([]byte, 1<<20)
	for i := range 40 {
		for j := range chunk {
			chunk[j] = byte(i + j)
		}
		f.Write(chunk)
		h.Write(chunk)
	}
	f.Close()
	want := h.Sum(nil)
	id := e.put(readerA, "", func(o *mock.Offer) {
		o.Message = mock.Content{Filename: "big.zip", ContentType: "application/zip", Path: path}
	})
	m, err := a.call(xta.OpGetMessage, xta.MsgBoxFetchRequest{MsgSelector: &xta.MsgSelector{MessageID: []string{id}}})
	if err != nil {
		t.Fatal(err)
	}
	var gc xta.GenericContentContainer
	if err := m.DecodeBody(&gc); err != nil {
		t.Fatal(err)
	}
	p, err := m.Part(gc.ContentContainer.Message.Include.Href)
	if err != nil {
		t.Fatal(err)
	}
	if p.Path() == "" || p.Size != 40<<20 {
		t.Fatalf("part spooled to %q, %d bytes", p.Path(), p.Size)
	}
	rc, _ := p.Open()
	g := sha256.New()
	io.Copy(g, rc)
	rc.Close()
	if string(g.Sum(nil)) != string(want) {
		t.Error("content differs")
	}
	if gc.ContentContainer.Message.Size != 40<<20 || gc.ContentContainer.Message.Filename != "big.zip" {
		t.Errorf("content attributes %+v", gc.ContentContainer.Message)
	}
}
