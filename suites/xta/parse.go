package xta

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/soap"
	"github.com/konform/konform/suites/drive"
	xtawire "github.com/konform/konform/xta"
)

// callOf reads one exchange the XTA server mock recorded (with its bodies) into a Call. The
// request and the answer are parsed with the kit's wire packages soap and xta; what cannot be
// read is said in Unparsed. The TLS side (TLS, ClientCert) is not in the exchange: the mock's own
// record of its calls has it (mailbox.Calls).
func callOf(e recorder.Exchange) Call {
	c := Call{Seq: e.Seq, Time: e.Time, Status: e.Status}
	u, err := url.Parse(e.URL)
	if err == nil {
		c.Path = u.Path
	} else {
		c.Path = e.URL
	}
	c.Port = PortOfPath(c.Path)
	if e.Direction != "inbound" || e.Method != http.MethodPost {
		c.Port = ""
	}
	c.ContentType = headerOf(e.ReqHeaders, "Content-Type")
	c.Action = drive.SOAPActionOf(e.ReqHeaders)
	c.Fault = faultNote(e)
	var problems []string
	if req, err := readBody(c.ContentType, e.ReqBody); err != nil {
		problems = append(problems, "request: "+err.Error())
		c.XOP = isXOPType(c.ContentType)
		c.SOAP12 = !errors.Is(err, soap.ErrVersion) && !errors.Is(err, soap.ErrNotEnvelope) && strings.Contains(c.ContentType, soap.MediaSOAP)
	} else {
		readRequest(&c, req)
		req.Close()
	}
	if c.Op == "" {
		if op, ok := operationByAction(c.Action); ok {
			c.Op = op.name
		}
	}
	if e.RespBody != nil && c.Fault != FaultReset {
		if resp, err := readBody(e.RespBody.ContentType, e.RespBody); err != nil {
			c.AnswerUnparsed = err.Error()
			problems = append(problems, "answer: "+err.Error())
		} else {
			readAnswer(&c, resp)
			resp.Close()
		}
	}
	c.Unparsed = strings.Join(problems, "; ")
	return c
}

func isXOPType(ct string) bool {
	l := strings.ToLower(ct)
	return strings.HasPrefix(strings.TrimSpace(l), soap.MediaMultipart) && strings.Contains(l, soap.MediaXOP)
}

func headerOf(h map[string][]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// readBody parses a recorded body as a SOAP 1.2 message.
func readBody(contentType string, b *recorder.Body) (*soap.Message, error) {
	switch {
	case b == nil:
		return nil, errors.New("no body recorded")
	case b.Text == "" && b.Omitted != "":
		return nil, fmt.Errorf("body not kept as text (%s)", b.Omitted)
	case b.Truncated:
		return nil, fmt.Errorf("body kept only in part (%d of %d bytes)", len(b.Text), b.Size)
	}
	if contentType == "" {
		contentType = b.ContentType
	}
	return soap.Read(contentType, strings.NewReader(b.Text), soap.ReadOptions{})
}

func readRequest(c *Call, m *soap.Message) {
	c.SOAP12 = true
	c.XOP = m.MTOM
	if c.Action == "" {
		c.Action = m.Action
	}
	c.WSA = WSA{Action: m.Addressing.Action, MessageID: m.Addressing.MessageID, To: m.Addressing.To, ReplyTo: m.Addressing.ReplyTo}
	c.BodyElement = m.BodyName.Local
	if op, ok := operationByAction(m.Addressing.Action); ok {
		c.Op = op.name
	}
	switch m.BodyName {
	case xml.Name{Space: xtawire.NSOSCI, Local: "MsgBoxFetchRequest"}:
		var r xtawire.MsgBoxFetchRequest
		if m.DecodeBody(&r) == nil {
			c.SelectorIDs = r.MessageIDs()
		}
	case xml.Name{Space: xtawire.NSOSCI, Local: "MsgBoxGetNextRequest"}:
		var r xtawire.MsgBoxGetNextRequest
		if m.DecodeBody(&r) == nil {
			c.RequestID, c.LastMsgReceived = r.MsgBoxRequestID, r.LastMsgReceived
		}
	case xml.Name{Space: xtawire.NSOSCI, Local: "MsgBoxCloseRequest"}:
		var r xtawire.MsgBoxCloseRequest
		if m.DecodeBody(&r) == nil {
			c.RequestID, c.LastMsgReceived = r.MsgBoxRequestID, r.LastMsgReceived
		}
	}
}

func readAnswer(c *Call, m *soap.Message) {
	if err := xtawire.FaultError(m); err != nil {
		var xe *xtawire.Error
		if errors.As(err, &xe) && xe.Exception != nil {
			c.Fault = faultKindOf(xe.Exception.Kind())
		} else if c.Fault == "" {
			c.Fault = "SOAP fault"
		}
		return
	}
	if r, err := xtawire.MsgBoxResponseOf(m); err == nil && r != nil {
		c.AnswerRequestID = r.MsgBoxRequestID
		if r.NoMessageAvailable != nil {
			c.NoMessage = r.NoMessageAvailable.Reason
		}
		if r.ItemsPending != nil {
			c.ItemsPending, c.HasItemsPending = *r.ItemsPending, true
		}
	}
	switch c.Op {
	case OpGetStatusList, OpGetNextStatusList:
		var l xtawire.MsgStatusList
		if m.BodyName.Local == "MsgStatusList" && m.DecodeBody(&l) == nil {
			for _, a := range l.MsgAttributes {
				c.Listed = append(c.Listed, a.MessageID)
			}
			for _, md := range l.MessageMetaData {
				c.Listed = append(c.Listed, md.MsgIdentification.MessageID)
			}
		}
	case OpGetMessage, OpGetNextMessage:
		if md, err := xtawire.MetaDataOf(m); err == nil && md != nil {
			c.Delivered = md.MsgIdentification.MessageID
		}
	}
}

func faultKindOf(exception string) string {
	switch exception {
	case xtawire.ExcTechnicalProblem:
		return FaultTechnical
	case xtawire.ExcPermissionDenied:
		return FaultPermission
	case xtawire.ExcInvalidMessageID:
		return FaultInvalidID
	}
	return strings.TrimSuffix(exception, "Exception")
}

// faultNote reads what the mock noted about a fault it injected that leaves no SOAP answer (a
// reset connection).
func faultNote(e recorder.Exchange) string {
	n := strings.ToLower(e.Note)
	if strings.Contains(n, "reset") || (e.Status == 0 && e.Error != "") {
		return FaultReset
	}
	return ""
}

// callsOf reads every exchange into a Call, in order.
func callsOf(ex []recorder.Exchange) []Call {
	out := make([]Call, 0, len(ex))
	for _, e := range ex {
		if e.Direction != "inbound" {
			continue
		}
		out = append(out, callOf(e))
	}
	return out
}

// soapCalls keeps the SOAP requests.
func soapCalls(calls []Call) []Call {
	var out []Call
	for _, c := range calls {
		if c.IsSOAP() {
			out = append(out, c)
		}
	}
	return out
}
