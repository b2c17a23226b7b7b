package xta

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	wire "github.com/konform/konform/xta"
)

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (s *Server) createMessageID(w http.ResponseWriter, p *plan) int {
	id := wire.NewXTAMessageID()
	s.mu.Lock()
	s.reserved[id] = true
	s.mu.Unlock()
	p.note += "createMessageId: " + id
	return respond(w, p, &wire.Response{Body: wire.MessageID{Value: id}})
}

// getTransportReport reports on a message in the caller's mailbox (green once closed, open
// before) or one the caller sent (green).
func (s *Server) getTransportReport(w http.ResponseWriter, p *plan) int {
	id := p.body.(*wire.MessageID).Value
	now := s.now().UTC().Format(wire.TimeFormat)
	s.mu.Lock()
	var meta *wire.MessageMetaData
	status := wire.StatusOpen
	if m := s.messages[id]; m != nil && m.mailbox == p.acct.ReaderID {
		md := m.meta
		meta = &md
		if m.state == StateClosed {
			status = wire.StatusGreen
		}
	}
	for _, sm := range s.sent {
		if meta == nil && sm.MessageID == id && sm.Account == p.acct.ReaderID {
			md := sm.MetaData
			meta, status = &md, wire.StatusGreen
		}
	}
	s.mu.Unlock()
	if meta == nil {
		s.exception(p, wire.ExcInvalidMessageID, wire.CodeUnknownMessageID, "MessageID "+id+" is not known for this account", "getTransportReport: fault 9070 (unknown "+id+")")
		return p.refuse(w)
	}
	p.note += fmt.Sprintf("getTransportReport: %s status %d", id, status)
	return respond(w, p, &wire.Response{Body: wire.TransportReport{
		MessageMetaData: *meta, ReportTime: now, XTAServerIdentity: "Konform XTA mock",
		MessageStatus: wire.MessageStatus{Status: status},
	}})
}

// lookupService answers every service as available: the mock has no service directory.
func (s *Server) lookupService(w http.ResponseWriter, p *plan) int {
	req := p.body.(*wire.LookupServiceRequest)
	yes := true
	resp := wire.LookupServiceResponse{}
	for _, it := range req.LookupServiceRequestList {
		resp.LookupServiceResultList.LookupServiceResult = append(resp.LookupServiceResultList.LookupServiceResult, wire.LookupServiceResult{
			Reader: it.LookupService.Reader, ServiceType: it.LookupService.ServiceType,
			IsServiceAvailableValue: wire.IsServiceAvailableValue{ServiceIsAvailable: &yes},
		})
	}
	p.note += fmt.Sprintf("lookupService: %d services, all available", len(req.LookupServiceRequestList))
	return respond(w, p, &wire.Response{Body: resp})
}
