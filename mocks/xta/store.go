package xta

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	wire "github.com/konform/konform/xta"
)

// account binds a reader identity to a client certificate.
type account struct {
	ReaderID string `json:"readerId"`
	Type     string `json:"type"`
	CertSHA  string `json:"certSha256"`
}

type storedFile struct {
	FileInfo
	path string
}

type message struct {
	id          string
	mailbox     string
	meta        wire.MessageMetaData
	msg         storedFile
	atts        []storedFile
	state       string
	offers      []time.Time
	listed      []time.Time
	fetched     []time.Time
	fetchReqIDs []string
	closes      []Close
}

// iterator is a MsgBoxRequestID's state: the list or fetch it continues.
type iterator struct {
	fetch     bool
	account   string // reader ID
	limit     int    // a list's maxListItems (0: none)
	form      string // a list's ListForm
	remaining []string
	delivered []string
}

func (m *message) snapshot() MessageState {
	st := MessageState{
		MessageID: m.id, Mailbox: m.mailbox, State: m.state, Offers: len(m.offers),
		OfferedAt: slices.Clone(m.offers), Listed: len(m.listed), ListedAt: slices.Clone(m.listed),
		Fetched: len(m.fetched), FetchedAt: slices.Clone(m.fetched), FetchRequestIDs: slices.Clone(m.fetchReqIDs),
		Closes: slices.Clone(m.closes), MetaData: m.meta, Message: m.msg.FileInfo, Attachments: []FileInfo{},
	}
	for _, a := range m.atts {
		st.Attachments = append(st.Attachments, a.FileInfo)
	}
	if st.OfferedAt == nil {
		st.OfferedAt = []time.Time{}
	}
	for _, p := range []*[]time.Time{&st.ListedAt, &st.FetchedAt} {
		if *p == nil {
			*p = []time.Time{}
		}
	}
	if st.FetchRequestIDs == nil {
		st.FetchRequestIDs = []string{}
	}
	if st.Closes == nil {
		st.Closes = []Close{}
	}
	return st
}

// storeFile streams r into a new file below the data folder.
func (s *Server) storeFile(r io.Reader, info FileInfo) (storedFile, error) {
	s.mu.Lock()
	s.fileSeq++
	name := filepath.Join(s.dataDir, "xta-"+strconv.FormatInt(s.fileSeq, 10)+".bin")
	s.mu.Unlock()
	f, err := os.Create(name)
	if err != nil {
		return storedFile{}, fmt.Errorf("storing content: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return storedFile{}, fmt.Errorf("storing content: %w", err)
	}
	info.Size, info.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return storedFile{FileInfo: info, path: name}, nil
}

// pendingFor lists the MessageIDs in reader's mailbox that are not closed, in offer order.
// The caller holds s.mu.
func (s *Server) pendingFor(reader string) []string {
	var out []string
	for _, id := range s.order {
		if m := s.messages[id]; m.mailbox == reader && m.state != StateClosed {
			out = append(out, id)
		}
	}
	return out
}

// newRequestID issues a MsgBoxRequestID. The caller holds s.mu.
func (s *Server) newRequestID() string {
	id := "urn:konform:xta:msgboxrequest:" + wire.NewUUID()
	s.issued[id] = true
	return id
}
