package xta

import (
	"encoding/xml"
	"net/http"

	wire "github.com/konform/konform/xta"
)

type sentMessage struct {
	SentMessage
	files []storedFile // message first, then attachments
}

// sendMessage stores what the SUT sends: the MessageMetaData header and the content container.
func (s *Server) sendMessage(w http.ResponseWriter, p *plan) int {
	meta, err := wire.MetaDataOf(p.m)
	if err != nil {
		s.exception(p, wire.ExcParameterIsNotValid, wire.CodeNoParameters, err.Error(), "sendMessage: no MessageMetaData header, fault 9020")
		return p.refuse(w)
	}
	id := meta.MsgIdentification.MessageID
	if id == "" {
		s.exception(p, wire.ExcParameterIsNotValid, wire.CodeNoParameters, "MessageMetaData names no MessageID", "sendMessage: no MessageID, fault 9020")
		return p.refuse(w)
	}
	p.call.MessageIDs = []string{id}
	s.mu.Lock()
	used := s.messages[id] != nil
	for _, sm := range s.sent {
		used = used || sm.MessageID == id
	}
	s.mu.Unlock()
	if used {
		s.exception(p, wire.ExcParameterIsNotValid, wire.CodeMessageIDUsed, "MessageID "+id+" is already used", "sendMessage: MessageID "+id+" already used, fault 9024")
		return p.refuse(w)
	}
	gc := p.body.(*wire.GenericContentContainer)
	if gc.ContentContainer == nil {
		s.exception(p, wire.ExcParameterIsNotValid, wire.CodeNoParameters, "no ContentContainer (encrypted content is not supported)", "sendMessage: no ContentContainer, fault 9020")
		return p.refuse(w)
	}
	var files []storedFile
	for _, c := range append([]wire.Content{gc.ContentContainer.Message}, gc.ContentContainer.Attachment...) {
		rc, err := c.Open(p.m)
		if err != nil {
			s.exception(p, wire.ExcParameterIsNotValid, wire.CodeInvalidParameterCombo, err.Error(), "sendMessage: content not readable, fault 9022")
			return p.refuse(w)
		}
		f, err := s.storeFile(rc, FileInfo{Filename: c.Filename, ContentType: c.ContentType, Description: c.ContentDescription})
		rc.Close()
		if err != nil {
			s.exception(p, wire.ExcTechnicalProblem, wire.CodeInternalError, err.Error(), "sendMessage: storing failed, fault 9030")
			return p.refuse(w)
		}
		files = append(files, f)
	}
	raw, _ := xml.Marshal(meta)
	sm := &sentMessage{SentMessage: SentMessage{
		Time: s.now().UTC(), Account: p.acct.ReaderID, MessageID: id, MetaData: *meta, MetaDataXML: string(raw),
		MTOM: p.m.MTOM, Message: files[0].FileInfo, Attachments: []FileInfo{},
	}, files: files}
	for _, f := range files[1:] {
		sm.Attachments = append(sm.Attachments, f.FileInfo)
	}
	s.mu.Lock()
	sm.Index = len(s.sent)
	s.sent = append(s.sent, sm)
	delete(s.reserved, id)
	s.mu.Unlock()
	p.note += "sendMessage: stored " + id
	return respond(w, p, &wire.Response{})
}
