package soap

import (
	"bytes"
	"fmt"
	"io"
	"net/textproto"
	"os"
)

// DefaultThreshold is the size above which a reader spools a part to a file.
const DefaultThreshold = 1 << 20

// Part is one MIME part of a message read, or the whole body of a plain SOAP message.
type Part struct {
	// ContentID is the part's Content-ID without angle brackets; "" when it has none.
	ContentID   string
	ContentType string
	Header      textproto.MIMEHeader
	Size        int64

	path string // spooled file, or ""
	data []byte
}

// Open reads the part from the start.
func (p *Part) Open() (io.ReadCloser, error) {
	if p.path != "" {
		return os.Open(p.path)
	}
	return io.NopCloser(bytes.NewReader(p.data)), nil
}

// Path is the file the part was spooled to; "" when it is held in memory.
func (p *Part) Path() string { return p.path }

// Bytes reads the whole part into memory; for parts known to be small.
func (p *Part) Bytes() ([]byte, error) {
	if p.path == "" {
		return p.data, nil
	}
	return os.ReadFile(p.path)
}

// spool reads r into a part: up to threshold bytes in memory, anything larger into a file in dir.
func spool(r io.Reader, dir string, threshold int64) (*Part, error) {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, threshold+1))
	if err != nil {
		return nil, err
	}
	if n <= threshold {
		return &Part{data: buf.Bytes(), Size: n}, nil
	}
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "soap-part-*")
	if err != nil {
		return nil, fmt.Errorf("soap: spooling a part: %w", err)
	}
	m, err := io.Copy(f, io.MultiReader(&buf, r))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("soap: spooling a part: %w", err)
	}
	return &Part{path: f.Name(), Size: m}, nil
}

func (p *Part) remove() error {
	if p == nil || p.path == "" {
		return nil
	}
	return os.Remove(p.path)
}
