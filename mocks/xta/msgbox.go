package xta

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/konform/konform/soap"
	wire "github.com/konform/konform/xta"
)

// execute answers the request as planned.
func (s *Server) execute(w http.ResponseWriter, r *http.Request, p *plan) int {
	if p.refuse != nil {
		return p.refuse(w)
	}
	if f := p.fault; f != nil {
		name := p.op.Name
		switch f.Kind {
		case FaultTechnical:
			code := or(f.Code, wire.CodeInternalError)
			s.exception(p, wire.ExcTechnicalProblem, code, "injected technical problem", name+": fault "+code+" (technical, injected)")
			return p.refuse(w)
		case FaultPermission:
			code := or(f.Code, wire.CodeNoAccount)
			s.exception(p, wire.ExcPermissionDenied, code, "injected permission denied", name+": fault "+code+" (permission, injected)")
			return p.refuse(w)
		case FaultInvalidID:
			s.exception(p, wire.ExcInvalidMessageID, wire.CodeUnknownMessageID, "injected invalid MessageID", name+": fault 9070 (invalid-id, injected)")
			return p.refuse(w)
		case FaultRequestIDInvalid:
			s.mu.Lock()
			rid := p.call.MsgBoxRequestID
			if rid == "" {
				rid = s.newRequestID()
			}
			s.mu.Unlock()
			p.note = name + ": NoMessageAvailable RequestIdInvalid (injected)"
			return respond(w, p, &wire.Response{Headers: []any{wire.NoMessage(rid, wire.ReasonRequestIDInvalid)}, Body: &wire.MsgStatusList{}})
		case FaultDelay:
			p.note = fmt.Sprintf("delayed %d ms (injected); ", f.DelayMS)
		}
	}
	switch p.op {
	case wire.OpGetStatusList:
		return s.getStatusList(w, p)
	case wire.OpGetNextStatusList:
		return s.getNextStatusList(w, p)
	case wire.OpGetMessage:
		return s.getMessage(w, p)
	case wire.OpGetNextMessage:
		return s.getNextMessage(w, p)
	case wire.OpClose:
		return s.closeMessages(w, p)
	case wire.OpCheckAccountActive:
		p.note += "checkAccountActive: active"
		return respond(w, p, &wire.Response{})
	case wire.OpCreateMessageID:
		return s.createMessageID(w, p)
	case wire.OpGetTransportReport:
		return s.getTransportReport(w, p)
	case wire.OpLookupService:
		return s.lookupService(w, p)
	case wire.OpSendMessage:
		return s.sendMessage(w, p)
	}
	s.exception(p, wire.ExcTechnicalProblem, wire.CodeInternalError, p.op.Name+" is not served", p.op.Name+": not served, fault 9030")
	return p.refuse(w)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// pageLimit is min(maxListItems, PageSize), either being 0 meaning no cap. The caller holds s.mu.
func (s *Server) pageLimit(maxItems int) int {
	n := maxItems
	if s.pageSize > 0 && (n <= 0 || s.pageSize < n) {
		n = s.pageSize
	}
	return n
}

func split(ids []string, limit int) (page, rest []string) {
	if limit <= 0 || limit >= len(ids) {
		return ids, nil
	}
	return ids[:limit], slices.Clone(ids[limit:])
}

// listPage builds a status list of ids and counts each as listed. The caller holds s.mu.
func (s *Server) listPage(ids []string, form string) *wire.MsgStatusList {
	now := s.now().UTC()
	out := &wire.MsgStatusList{}
	for _, id := range ids {
		m := s.messages[id]
		m.listed = append(m.listed, now)
		if form == wire.ListFormMsgAttributes {
			bs := m.meta.Qualifier.BusinessScenario.Undefined
			if d := m.meta.Qualifier.BusinessScenario.Defined; d != nil {
				bs = d.Code
			}
			size := m.msg.Size
			for _, a := range m.atts {
				size += a.Size
			}
			out.MsgAttributes = append(out.MsgAttributes, wire.MsgAttributes{
				MessageID: id, TypeOfBusinessScenario: bs, MsgSize: int(size),
				DeliveryTime: m.offers[len(m.offers)-1].UTC().Format(wire.TimeFormat),
			})
			continue
		}
		out.MessageMetaData = append(out.MessageMetaData, m.meta)
	}
	return out
}

func (s *Server) getStatusList(w http.ResponseWriter, p *plan) int {
	req := p.body.(*wire.MsgBoxStatusListRequest)
	s.mu.Lock()
	ids := s.pendingFor(p.acct.ReaderID)
	if sel := req.MsgSelector; sel != nil && len(sel.MessageID) > 0 {
		ids = slices.DeleteFunc(ids, func(id string) bool { return !slices.Contains(sel.MessageID, id) })
	}
	rid := s.newRequestID()
	if len(ids) == 0 {
		s.mu.Unlock()
		p.note += "getStatusList: empty mailbox, NoMessageAvailable NoMatch"
		return respond(w, p, &wire.Response{Headers: []any{wire.NoMessage(rid, wire.ReasonNoMatch)}, Body: &wire.MsgStatusList{}})
	}
	page, rest := split(ids, s.pageLimit(req.MaxListItems))
	if len(rest) > 0 {
		s.iterators[rid] = &iterator{account: p.acct.ReaderID, limit: req.MaxListItems, form: req.ListForm, remaining: rest, delivered: slices.Clone(page)}
	}
	list := s.listPage(page, req.ListForm)
	s.mu.Unlock()
	p.note += fmt.Sprintf("getStatusList: listed %s; %d pending under %s", strings.Join(page, ", "), len(rest), rid)
	return respond(w, p, &wire.Response{Headers: []any{wire.Pending(rid, len(rest))}, Body: list})
}

func (s *Server) getNextStatusList(w http.ResponseWriter, p *plan) int {
	req := p.body.(*wire.MsgBoxGetNextRequest)
	rid := req.MsgBoxRequestID
	s.mu.Lock()
	it := s.iterators[rid]
	if it == nil || it.fetch || it.account != p.acct.ReaderID {
		s.mu.Unlock()
		p.note += "getNextStatusList: unknown or exhausted MsgBoxRequestID " + rid + ", NoMessageAvailable RequestIdInvalid"
		return respond(w, p, &wire.Response{Headers: []any{wire.NoMessage(rid, wire.ReasonRequestIDInvalid)}, Body: &wire.MsgStatusList{}})
	}
	it.remaining = slices.DeleteFunc(it.remaining, func(id string) bool { return s.messages[id].state == StateClosed })
	page, rest := split(it.remaining, s.pageLimit(it.limit))
	if len(rest) == 0 {
		delete(s.iterators, rid)
	} else {
		it.remaining = rest
		it.delivered = append(it.delivered, page...)
	}
	if len(page) == 0 {
		s.mu.Unlock()
		p.note += "getNextStatusList: nothing left under " + rid + ", NoMessageAvailable NoMatch"
		return respond(w, p, &wire.Response{Headers: []any{wire.NoMessage(rid, wire.ReasonNoMatch)}, Body: &wire.MsgStatusList{}})
	}
	list := s.listPage(page, it.form)
	s.mu.Unlock()
	p.note += fmt.Sprintf("getNextStatusList: listed %s; %d pending under %s", strings.Join(page, ", "), len(rest), rid)
	return respond(w, p, &wire.Response{Headers: []any{wire.Pending(rid, len(rest))}, Body: list})
}

// fetchable reports why id cannot be fetched by reader ("" when it can). The caller holds s.mu.
func (s *Server) fetchable(reader, id string) string {
	m := s.messages[id]
	switch {
	case m == nil:
		return "unknown " + id
	case m.mailbox != reader:
		return id + " is in another mailbox"
	case m.state == StateClosed:
		return id + " is closed"
	}
	return ""
}

func (s *Server) getMessage(w http.ResponseWriter, p *plan) int {
	req := p.body.(*wire.MsgBoxFetchRequest)
	reader := p.acct.ReaderID
	s.mu.Lock()
	ids := req.MessageIDs()
	if len(ids) == 0 {
		ids = s.pendingFor(reader)
	}
	for _, id := range ids {
		if why := s.fetchable(reader, id); why != "" {
			s.mu.Unlock()
			s.exception(p, wire.ExcInvalidMessageID, wire.CodeUnknownMessageID, why, "getMessage: fault 9070 ("+why+")")
			return p.refuse(w)
		}
	}
	if len(ids) == 0 {
		s.mu.Unlock()
		s.exception(p, wire.ExcInvalidMessageID, wire.CodeUnknownMessageID, "no message to fetch", "getMessage: empty mailbox, fault 9070")
		return p.refuse(w)
	}
	rid := s.newRequestID()
	if len(ids) > 1 {
		s.iterators[rid] = &iterator{fetch: true, account: reader, remaining: slices.Clone(ids[1:]), delivered: []string{ids[0]}}
	}
	resp := s.deliver(ids[0], rid, len(ids)-1)
	s.mu.Unlock()
	p.note += "getMessage: delivered " + ids[0] + " under " + rid
	return respond(w, p, resp)
}

func (s *Server) getNextMessage(w http.ResponseWriter, p *plan) int {
	req := p.body.(*wire.MsgBoxGetNextRequest)
	rid := req.MsgBoxRequestID
	s.mu.Lock()
	it := s.iterators[rid]
	if it != nil {
		it.remaining = slices.DeleteFunc(it.remaining, func(id string) bool { return s.fetchable(it.account, id) != "" })
	}
	if it == nil || !it.fetch || it.account != p.acct.ReaderID || len(it.remaining) == 0 {
		s.mu.Unlock()
		s.exception(p, wire.ExcInvalidMessageID, wire.CodeUnknownMessageID, "no message left under MsgBoxRequestID "+rid, "getNextMessage: unknown or exhausted MsgBoxRequestID, fault 9070")
		return p.refuse(w)
	}
	id := it.remaining[0]
	it.remaining = it.remaining[1:]
	it.delivered = append(it.delivered, id)
	resp := s.deliver(id, rid, len(it.remaining))
	s.mu.Unlock()
	p.note += "getNextMessage: delivered " + id + " under " + rid
	return respond(w, p, resp)
}

// deliver builds the response that hands out message id under rid and counts the fetch.
// The caller holds s.mu.
func (s *Server) deliver(id, rid string, pending int) *wire.Response {
	m := s.messages[id]
	m.fetched = append(m.fetched, s.now().UTC())
	m.fetchReqIDs = append(m.fetchReqIDs, rid)
	m.state = StateFetched
	content := func(f storedFile, cid string) (wire.Content, soap.Attachment) {
		return wire.Content{ContentType: f.ContentType, Filename: f.Filename, ContentDescription: f.Description, Size: f.Size, Include: soap.NewInclude(cid)},
			soap.Attachment{ContentID: cid, ContentType: f.ContentType, Path: f.path}
	}
	cc := &wire.ContentContainer{}
	var atts []soap.Attachment
	c, a := content(m.msg, "message@konform")
	cc.Message = c
	atts = append(atts, a)
	for i, f := range m.atts {
		c, a := content(f, fmt.Sprintf("attachment%d@konform", i+1))
		cc.Attachment = append(cc.Attachment, c)
		atts = append(atts, a)
	}
	meta := m.meta
	return &wire.Response{
		Headers:     []any{&meta, wire.Pending(rid, pending)},
		Body:        &wire.GenericContentContainer{ContentContainer: cc},
		Attachments: atts,
	}
}

func (s *Server) closeMessages(w http.ResponseWriter, p *plan) int {
	req := p.body.(*wire.MsgBoxCloseRequest)
	rid := req.MsgBoxRequestID
	reader := p.acct.ReaderID
	s.mu.Lock()
	targets := req.LastMsgReceived
	named := len(targets) > 0
	if !named {
		if it := s.iterators[rid]; it != nil && it.fetch && it.account == reader {
			targets = it.delivered
		} else {
			for _, id := range s.order {
				if m := s.messages[id]; m.mailbox == reader && m.state == StateFetched && slices.Contains(m.fetchReqIDs, rid) {
					targets = append(targets, id)
				}
			}
		}
	}
	if len(targets) == 0 {
		s.mu.Unlock()
		s.exception(p, wire.ExcInvalidMessageID, wire.CodeUnknownMessageID, "close names no message (no LastMsgReceived, and "+rid+" delivered none)", "close: names no message, fault 9070")
		return p.refuse(w)
	}
	for _, id := range targets {
		why := s.fetchable(reader, id)
		if why == "" && s.messages[id].state != StateFetched {
			why = id + " was not fetched"
		}
		if why != "" {
			s.mu.Unlock()
			s.exception(p, wire.ExcInvalidMessageID, wire.CodeUnknownMessageID, why, "close: fault 9070 ("+why+")")
			return p.refuse(w)
		}
	}
	now := s.now().UTC()
	var how []string
	for _, id := range targets {
		m := s.messages[id]
		m.state = StateClosed
		c := Close{Time: now, Account: reader, MsgBoxRequestID: rid, IssuedForMessage: slices.Contains(m.fetchReqIDs, rid), IssuedByMock: s.issued[rid], ViaLastMsgReceived: named}
		m.closes = append(m.closes, c)
		switch {
		case c.IssuedForMessage:
			how = append(how, id)
		case c.IssuedByMock:
			how = append(how, id+" (MsgBoxRequestID issued for another response)")
		default:
			how = append(how, id+" (MsgBoxRequestID not issued by the mock)")
		}
	}
	delete(s.iterators, rid)
	s.mu.Unlock()
	p.note += "close: closed " + strings.Join(how, ", ")
	return respond(w, p, &wire.Response{})
}
