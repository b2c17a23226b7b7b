package xta

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strconv"

	"github.com/konform/konform/mocks/control"
	"github.com/konform/konform/mocks/recorder"
	wire "github.com/konform/konform/xta"
)

// Control API paths.
const (
	HealthPath     = control.HealthPath
	ConfigPath     = recorder.ControlPrefix + "xta/config"
	AccountsPath   = recorder.ControlPrefix + "xta/accounts"
	MessagesPath   = recorder.ControlPrefix + "xta/messages"
	SentPath       = recorder.ControlPrefix + "xta/sent"
	FaultsPath     = recorder.ControlPrefix + "xta/faults"
	HandshakesPath = recorder.ControlPrefix + "xta/handshakes"
	CallsPath      = recorder.ControlPrefix + "xta/calls"
)

// Form part names of a Put upload (multipart/form-data, in this order).
const (
	partOffer      = "offer"      // JSON OfferHeader
	partMetaData   = "metadata"   // MessageMetaData XML
	partMessage    = "message"    // the message content (filename, Content-Type)
	partAttachment = "attachment" // each attachment (filename, Content-Type)
)

// OfferHeader is the JSON part of a Put upload.
type OfferHeader struct {
	// Mailbox is the reader identifier whose mailbox gets the message; "" is the metadata's Reader.
	Mailbox string `json:"mailbox,omitempty"`
	// MessageID: "" takes the metadata's MessageID, or issues urn:de:xta:messageid:<uuid>.
	MessageID string `json:"messageId,omitempty"`
	// ReuseMessageID offers the message again under a MessageID already used.
	ReuseMessageID bool `json:"reuseMessageId,omitempty"`
	// Description of the message content (ContentType@contentDescription).
	Description string `json:"description,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func controlFail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		controlFail(w, http.StatusBadRequest, "decoding request: "+err.Error())
		return false
	}
	return true
}

func (s *Server) controlRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "actor": Actor})
	})
	mux.Handle("GET "+recorder.ExchangesPath, s.rec.Handler())
	mux.Handle("GET "+recorder.LastPath, s.rec.Handler())
	mux.Handle("PUT "+recorder.RetentionPath, s.rec.RetentionHandler())
	mux.HandleFunc("POST "+ConfigPath, func(w http.ResponseWriter, r *http.Request) {
		var c Config
		if !decodeJSON(w, r, &c) {
			return
		}
		if err := s.configure(c); err != nil {
			controlFail(w, http.StatusBadRequest, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST "+AccountsPath, s.ctlAddAccount)
	mux.HandleFunc("POST "+MessagesPath, s.ctlPut)
	mux.HandleFunc("GET "+MessagesPath, func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		out := []MessageState{}
		for _, id := range s.order {
			out = append(out, s.messages[id].snapshot())
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET "+MessagesPath+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		s.mu.Lock()
		m := s.messages[id]
		var st MessageState
		if m != nil {
			st = m.snapshot()
		}
		s.mu.Unlock()
		if m == nil {
			controlFail(w, http.StatusNotFound, "no message "+id)
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("GET "+SentPath, func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		out := []SentMessage{}
		for _, sm := range s.sent {
			out = append(out, sm.SentMessage)
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET "+SentPath+"/{i}/content/{part}", s.ctlSentContent)
	mux.HandleFunc("GET "+FaultsPath, func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		out := []Fault{}
		for _, f := range s.faults {
			out = append(out, *f)
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST "+FaultsPath, func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if !decodeJSON(w, r, &f) {
			return
		}
		if err := f.validate(); err != nil {
			controlFail(w, http.StatusBadRequest, err.Error())
			return
		}
		f.Used = 0
		s.mu.Lock()
		s.faults = append(s.faults, &f)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE "+FaultsPath, func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		s.faults = nil
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+HandshakesPath, func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		out := append([]Handshake{}, s.handshakes...)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET "+CallsPath, func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		out := append([]Call{}, s.calls...)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc(recorder.ControlPrefix, func(w http.ResponseWriter, r *http.Request) {
		controlFail(w, http.StatusNotFound, "unknown control endpoint "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// AccountRequest binds a reader identity to a client certificate.
type AccountRequest struct {
	ReaderID string `json:"readerId"`
	Type     string `json:"type"`
	CertPEM  string `json:"certPem"`
}

func (s *Server) ctlAddAccount(w http.ResponseWriter, r *http.Request) {
	var a AccountRequest
	if !decodeJSON(w, r, &a) {
		return
	}
	if a.ReaderID == "" {
		controlFail(w, http.StatusBadRequest, "readerId is required")
		return
	}
	cert, err := parseCertPEM(a.CertPEM)
	if err != nil {
		controlFail(w, http.StatusBadRequest, "certPem: "+err.Error())
		return
	}
	acct := &account{ReaderID: a.ReaderID, Type: or(a.Type, wire.IdentifierTypeXoev), CertSHA: certFingerprint(cert.Raw)}
	s.mu.Lock()
	s.accounts[acct.CertSHA] = acct
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, acct)
}

// ctlPut takes a message into a mailbox: a multipart/form-data upload, streamed to disk.
func (s *Server) ctlPut(w http.ResponseWriter, r *http.Request) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		controlFail(w, http.StatusUnsupportedMediaType, "a message is put as multipart/form-data (parts offer, metadata, message, attachment…)")
		return
	}
	var (
		hdr     OfferHeader
		metaXML []byte
		msg     *storedFile
		atts    []storedFile
	)
	cleanup := func() {
		if msg != nil {
			os.Remove(msg.path)
		}
		for _, a := range atts {
			os.Remove(a.path)
		}
	}
	fail := func(status int, msg string) {
		cleanup()
		controlFail(w, status, msg)
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail(http.StatusBadRequest, "reading upload: "+err.Error())
			return
		}
		switch part.FormName() {
		case partOffer:
			if err := json.NewDecoder(io.LimitReader(part, 1<<20)).Decode(&hdr); err != nil {
				fail(http.StatusBadRequest, "offer part: "+err.Error())
				return
			}
		case partMetaData:
			if metaXML, err = io.ReadAll(io.LimitReader(part, 4<<20)); err != nil {
				fail(http.StatusBadRequest, "metadata part: "+err.Error())
				return
			}
		case partMessage, partAttachment:
			f, err := s.storeFile(part, FileInfo{Filename: part.FileName(), ContentType: or(part.Header.Get("Content-Type"), "application/octet-stream")})
			if err != nil {
				fail(http.StatusInternalServerError, err.Error())
				return
			}
			if part.FormName() == partMessage {
				if msg != nil {
					atts = append(atts, f)
					fail(http.StatusBadRequest, "more than one message part")
					return
				}
				msg = &f
			} else {
				atts = append(atts, f)
			}
		default:
			fail(http.StatusBadRequest, "unknown part "+strconv.Quote(part.FormName()))
			return
		}
		part.Close()
	}
	if msg == nil || len(metaXML) == 0 {
		fail(http.StatusBadRequest, "a message needs a metadata part and a message part")
		return
	}
	var meta wire.MessageMetaData
	if err := xml.Unmarshal(metaXML, &meta); err != nil {
		fail(http.StatusBadRequest, "metadata: "+err.Error())
		return
	}
	if meta.XMLName.Space != wire.NSMeta || meta.XMLName.Local != "MessageMetaData" {
		fail(http.StatusBadRequest, fmt.Sprintf("metadata: root is {%s}%s, not oscimeta:MessageMetaData", meta.XMLName.Space, meta.XMLName.Local))
		return
	}
	msg.Description = hdr.Description
	id := or(hdr.MessageID, or(meta.MsgIdentification.MessageID, wire.NewXTAMessageID()))
	mailbox := or(hdr.Mailbox, meta.Destinations.Reader.Identifier.Value)
	if mailbox == "" {
		fail(http.StatusBadRequest, "no mailbox: the offer names none and the metadata has no Reader")
		return
	}
	now := s.now().UTC()
	meta.MsgIdentification.MessageID = id
	if meta.DeliveryAttributes.Delivery == "" {
		meta.DeliveryAttributes.Delivery = now.Format(wire.TimeFormat)
	}
	if meta.MsgSize == 0 {
		meta.MsgSize = msg.Size
		for _, a := range atts {
			meta.MsgSize += a.Size
		}
	}
	s.mu.Lock()
	old := s.messages[id]
	sentBefore := slices.ContainsFunc(s.sent, func(sm *sentMessage) bool { return sm.MessageID == id })
	if (old != nil || sentBefore) && !hdr.ReuseMessageID {
		s.mu.Unlock()
		fail(http.StatusConflict, "MessageID "+id+" is already used (set reuseMessageId to offer it again)")
		return
	}
	m := &message{id: id}
	if old != nil {
		m = old
	} else {
		s.order = append(s.order, id)
		s.messages[id] = m
	}
	m.mailbox, m.meta, m.msg, m.atts, m.state = mailbox, meta, *msg, atts, StatePending
	m.offers = append(m.offers, now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"messageId": id})
}

func (s *Server) ctlSentContent(w http.ResponseWriter, r *http.Request) {
	i, err1 := strconv.Atoi(r.PathValue("i"))
	part, err2 := strconv.Atoi(r.PathValue("part"))
	s.mu.Lock()
	var f *storedFile
	if err1 == nil && err2 == nil && i >= 0 && i < len(s.sent) && part >= 0 && part < len(s.sent[i].files) {
		f = &s.sent[i].files[part]
	}
	s.mu.Unlock()
	if f == nil {
		controlFail(w, http.StatusNotFound, "no sent message "+r.PathValue("i")+" with content part "+r.PathValue("part"))
		return
	}
	file, err := os.Open(f.path)
	if err != nil {
		controlFail(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer file.Close()
	w.Header().Set("Content-Type", f.ContentType)
	if f.Filename != "" {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Filename}))
	}
	_, _ = io.Copy(w, file)
}
