package recorder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"
)

// Abridged multipart bodies. An MTOM message (multipart/related) carries its SOAP envelope in
// the first part and attachments, often binary and large, in the others. Kept whole it would be
// binary evidence of no use and spend the budget; cut at BodyCap it would no longer parse. The
// evidence keeps it as a multipart body of the same boundary: the root part as sent (up to
// BodyCap), every other part with its headers and, as content, a line naming its size and
// SHA-256. Size and digest of the Body still cover the body as sent.

// abridgedNote is Body.Abridged for such a body.
const abridgedNote = "multipart: the root part as sent; every other part replaced by a line with its size and SHA-256"

type partCapture struct {
	pw       *io.PipeWriter
	done     chan struct{}
	boundary string
	out      bytes.Buffer
	err      error
}

// newPartCapture starts reading a multipart/related body as it streams past; nil for any other type.
func newPartCapture(contentType string) *partCapture {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || strings.ToLower(mt) != "multipart/related" || params["boundary"] == "" {
		return nil
	}
	pr, pw := io.Pipe()
	pc := &partCapture{pw: pw, done: make(chan struct{}), boundary: params["boundary"]}
	go func() {
		defer close(pc.done)
		pc.err = pc.read(multipart.NewReader(pr, pc.boundary))
		_, _ = io.Copy(io.Discard, pr) // never block the writer
	}()
	return pc
}

func (pc *partCapture) read(mr *multipart.Reader) error {
	for i := 0; ; i++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			fmt.Fprintf(&pc.out, "--%s--\r\n", pc.boundary)
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(&pc.out, "--%s\r\n", pc.boundary)
		for k, vs := range p.Header {
			for _, v := range vs {
				fmt.Fprintf(&pc.out, "%s: %s\r\n", k, v)
			}
		}
		pc.out.WriteString("\r\n")
		if i == 0 {
			root, err := io.ReadAll(io.LimitReader(p, BodyCap))
			if err != nil {
				return err
			}
			if n, _ := io.Copy(io.Discard, p); n > 0 {
				return fmt.Errorf("root part larger than %d bytes", BodyCap)
			}
			pc.out.Write(root)
		} else {
			h := sha256.New()
			n, err := io.Copy(h, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&pc.out, "[%d bytes, sha256:%s, not kept in the evidence]", n, hex.EncodeToString(h.Sum(nil)))
		}
		pc.out.WriteString("\r\n")
	}
}

func (pc *partCapture) write(p []byte) { _, _ = pc.pw.Write(p) }

// result ends the capture; ok is false when the body was no well-formed multipart body.
func (pc *partCapture) result() ([]byte, bool) {
	pc.pw.Close()
	<-pc.done
	return pc.out.Bytes(), pc.err == nil
}
