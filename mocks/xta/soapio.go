package xta

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/soap"
	wire "github.com/konform/konform/xta"
)

// memLimit is the largest request read ahead into memory, so that a reset fault can be decided
// before the recorder sees an answer; larger requests (big sendMessage) stream.
const memLimit = 4 << 20

// plan is what the mock makes of one SOAP request before answering it.
type plan struct {
	m    *soap.Message
	op   wire.Operation
	acct *account
	body any
	// refuse answers the request instead of the operation; it returns the status.
	refuse func(w http.ResponseWriter) int
	fault  *Fault
	note   string
	call   Call
}

func (s *Server) serveSOAP(w http.ResponseWriter, r *http.Request) {
	head, _ := io.ReadAll(io.LimitReader(r.Body, memLimit+1))
	whole := len(head) <= memLimit
	rest := r.Body
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), rest), rest}
	var p *plan
	if whole {
		p = s.evaluate(r, bytes.NewReader(head))
		if p.fault != nil && p.fault.Kind == FaultReset {
			s.reset(w, r, head, p)
			return
		}
	}
	s.rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p == nil {
			p = s.evaluate(r, r.Body)
		}
		if p.fault != nil && p.fault.Kind == FaultDelay {
			s.hold(r, p.fault)
		}
		if p.m != nil {
			defer p.m.Close()
		}
		status := s.execute(w, r, p)
		recorder.Note(r, p.note)
		p.call.Status, p.call.Note = status, p.note
		s.addCall(p.call)
	})).ServeHTTP(w, r)
}

func (s *Server) hold(r *http.Request, f *Fault) {
	t := time.NewTimer(time.Duration(f.DelayMS) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

func (s *Server) addCall(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

// evaluate reads the request and decides everything that has no side effect: transport,
// SOAP version, WS-Addressing, operation, account, body, and the fault to inject.
func (s *Server) evaluate(r *http.Request, body io.Reader) *plan {
	p := &plan{call: Call{Time: s.now().UTC(), Path: r.URL.Path, TLS: r.TLS != nil,
		ContentType: r.Header.Get("Content-Type"), SOAPAction: r.Header.Get("SOAPAction")}}
	plain := func(status int, note, msg string) *plan {
		p.note = note
		p.refuse = func(w http.ResponseWriter) int { http.Error(w, msg, status); return status }
		return p
	}
	if r.TLS == nil {
		return plain(http.StatusForbidden, "plain HTTP: refused 403",
			"the XTA ports take SOAP over TLS with a client certificate; plain HTTP serves only "+recorder.ControlPrefix)
	}
	if !isPort(r.URL.Path) {
		return plain(http.StatusNotFound, "unknown path", "no XTA port at "+r.URL.Path+" (ports: "+wire.PathManagement+", "+wire.PathMsgBox+", "+wire.PathSend+")")
	}
	if r.Method != http.MethodPost {
		return plain(http.StatusMethodNotAllowed, "method "+r.Method+": refused 405", "XTA ports take SOAP by POST, not "+r.Method)
	}
	m, err := soap.Read(r.Header.Get("Content-Type"), body, soap.ReadOptions{Dir: s.dataDir, SOAPAction: r.Header.Get("SOAPAction")})
	switch {
	case errors.Is(err, soap.ErrContentType):
		return plain(http.StatusUnsupportedMediaType, "not SOAP 1.2: refused 415", err.Error())
	case errors.Is(err, soap.ErrVersion):
		return s.soapFault(p, "", &soap.Fault{Code: soap.CodeVersionMismatch, Reason: err.Error()}, "SOAP 1.1 envelope: VersionMismatch fault")
	case err != nil:
		return s.soapFault(p, "", &soap.Fault{Code: soap.CodeSender, Reason: err.Error()}, "unreadable SOAP message: "+err.Error())
	}
	p.m = m
	a := m.Addressing
	p.call.MTOM, p.call.Action, p.call.ActionSource, p.call.Addressing = m.MTOM, m.Action, m.ActionSource, a
	for _, h := range []struct{ local, v string }{{"Action", a.Action}, {"MessageID", a.MessageID}, {"To", a.To}} {
		if h.v == "" {
			detail := `<wsa:ProblemHeaderQName xmlns:wsa="` + soap.NSWSA + `">wsa:` + h.local + `</wsa:ProblemHeaderQName>`
			return s.wsaFault(p, "MessageAddressingHeaderRequired", "WS-Addressing header wsa:"+h.local+" is required", detail,
				"no wsa:"+h.local+": MessageAddressingHeaderRequired fault")
		}
	}
	if a.ReplyTo != "" && a.ReplyTo != soap.WSAAnonymous {
		return s.wsaFault(p, "InvalidAddressingHeader", "OnlyAnonymousAddressSupported: wsa:ReplyTo must be anonymous (wsam:AnonymousResponses)", "",
			"non-anonymous wsa:ReplyTo: InvalidAddressingHeader fault")
	}
	op, ok := wire.OperationFor(r.URL.Path, a.Action)
	if !ok {
		detail := `<wsa:ProblemAction xmlns:wsa="` + soap.NSWSA + `"><wsa:Action>` + escape(a.Action) + `</wsa:Action></wsa:ProblemAction>`
		return s.wsaFault(p, "ActionNotSupported", "wsa:Action "+a.Action+" is no operation of "+r.URL.Path, detail,
			"wsa:Action not of this port: ActionNotSupported fault")
	}
	p.op, p.call.Operation = op, op.Name
	if m.Action != "" && m.Action != a.Action {
		return s.wsaFault(p, "InvalidAddressingHeader", fmt.Sprintf("ActionMismatch: SOAP action %q (%s) differs from wsa:Action %q", m.Action, m.ActionSource, a.Action), "",
			op.Name+": SOAP action differs from wsa:Action: InvalidAddressingHeader fault")
	}
	if op == wire.OpCancelMessage || op == wire.OpSendMessageSync {
		return s.exception(p, wire.ExcTechnicalProblem, wire.CodeInternalError, op.Name+" is not served by the Konform mock", op.Name+": not served, fault 9030")
	}
	certs := r.TLS.PeerCertificates
	if len(certs) == 0 {
		return s.exception(p, wire.ExcPermissionDenied, wire.CodeNoAccount, "no client certificate: XTA authenticates by TLS client certificate", op.Name+": no client certificate, fault 9012")
	}
	sha := certFingerprint(certs[0].Raw)
	p.call.ClientCert = sha
	s.mu.Lock()
	acct := s.accounts[sha]
	s.mu.Unlock()
	if acct == nil {
		return s.exception(p, wire.ExcPermissionDenied, wire.CodeNoAccount, "the client certificate belongs to no account", op.Name+": client certificate of no account, fault 9012")
	}
	p.acct, p.call.Account = acct, acct.ReaderID
	if errp := s.decodeBody(p); errp != nil {
		return errp
	}
	p.fault = s.takeFault(op.Name, p.call.MessageIDs)
	return p
}

// decodeBody reads the operation's body element into p.body and notes the MessageIDs it names.
func (s *Server) decodeBody(p *plan) *plan {
	var v any
	switch p.op {
	case wire.OpGetStatusList:
		v = &wire.MsgBoxStatusListRequest{}
	case wire.OpGetMessage:
		v = &wire.MsgBoxFetchRequest{}
	case wire.OpGetNextStatusList, wire.OpGetNextMessage:
		v = &wire.MsgBoxGetNextRequest{}
	case wire.OpClose:
		v = &wire.MsgBoxCloseRequest{}
	case wire.OpGetTransportReport:
		v = &wire.MessageID{}
	case wire.OpLookupService:
		v = &wire.LookupServiceRequest{}
	case wire.OpSendMessage:
		v = &wire.GenericContentContainer{}
	default: // checkAccountActive, createMessageId: empty body
		return nil
	}
	if err := p.m.DecodeBody(v); err != nil {
		return s.exception(p, wire.ExcParameterIsNotValid, wire.CodeNoParameters, p.op.Name+": "+err.Error(), p.op.Name+": body not readable, fault 9020")
	}
	p.body = v
	switch b := v.(type) {
	case *wire.MsgBoxFetchRequest:
		p.call.MessageIDs = b.MessageIDs()
	case *wire.MsgBoxGetNextRequest:
		p.call.MessageIDs, p.call.MsgBoxRequestID = b.LastMsgReceived, b.MsgBoxRequestID
	case *wire.MsgBoxCloseRequest:
		p.call.MessageIDs, p.call.MsgBoxRequestID = b.LastMsgReceived, b.MsgBoxRequestID
	case *wire.MessageID:
		p.call.MessageIDs = []string{b.Value}
	}
	return nil
}

// soapFault makes p answer with a SOAP fault (action "" is the WS-Addressing fault action).
func (s *Server) soapFault(p *plan, action string, f *soap.Fault, note string) *plan {
	if action == "" {
		action = soap.WSAFaultAction
	}
	relates := ""
	if p.m != nil {
		relates = p.m.Addressing.MessageID
	}
	p.note = note
	p.refuse = func(w http.ResponseWriter) int { return writeFault(w, action, relates, f) }
	return p
}

func (s *Server) wsaFault(p *plan, subcode, reason, detail, note string) *plan {
	return s.soapFault(p, soap.WSAFaultAction, &soap.Fault{Code: soap.CodeSender, Subcode: xml.Name{Space: soap.NSWSA, Local: subcode}, Reason: reason, Detail: soap.RawXML(detail)}, note)
}

// exception makes p answer with an XTA exception fault under the operation's Action.
func (s *Server) exception(p *plan, kind, code, reason, note string) *plan {
	action := p.op.Action
	if action == "" {
		action = soap.WSAFaultAction
	}
	return s.soapFault(p, action, wire.NewException(kind, code).Fault(reason), note)
}

// writeFault answers with f: 400 for a Sender fault, 500 otherwise (SOAP 1.2 Part 2 §7.5.2.2).
func writeFault(w http.ResponseWriter, action, relatesTo string, f *soap.Fault) int {
	status := http.StatusInternalServerError
	if f.Code == soap.CodeSender {
		status = http.StatusBadRequest
	}
	o, err := wire.FaultOutgoing(action, relatesTo, f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	_ = soap.WriteResponse(w, status, o)
	return status
}

// respond writes a successful MTOM answer to p's operation.
func respond(w http.ResponseWriter, p *plan, resp *wire.Response) int {
	resp.Op, resp.RelatesTo = p.op, p.m.Addressing.MessageID
	o, err := resp.Outgoing()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	_ = soap.WriteResponse(w, http.StatusOK, o)
	return http.StatusOK
}

// reset cuts the connection without an answer and records the exchange itself, as the
// recorder's middleware never sees an answer.
func (s *Server) reset(w http.ResponseWriter, r *http.Request, raw []byte, p *plan) {
	p.note = p.op.Name + ": fault reset (connection cut, no answer)"
	if p.m != nil {
		p.m.Close()
	}
	p.call.Note = p.note
	s.addCall(p.call)
	sum := sha256Hex(raw)
	s.rec.Add(recorder.Exchange{
		Direction: "inbound", Time: p.call.Time, Method: r.Method, URL: r.URL.RequestURI(),
		Error:       "connection closed by the mock without an answer",
		ReqHeaders:  recorder.Redact(r.Header),
		RespHeaders: map[string][]string{},
		ReqBodySize: int64(len(raw)), ReqBodySHA: sum,
		ReqBody:     recorder.BodyOf(r.Header.Get("Content-Type"), raw, r.Header),
		RespBodySHA: sha256Hex(nil),
		Note:        p.note,
	})
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "connection reset", http.StatusServiceUnavailable)
		return
	}
	c := conn
	for {
		if tcp, ok := c.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0) // a real RST, not an orderly FIN
			break
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = u.NetConn()
	}
	_ = conn.Close()
}

func escape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
