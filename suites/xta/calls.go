package xta

import (
	"fmt"
	"strings"
	"time"
)

// The judged view of the SUT's traffic at the XTA server: one Call per SOAP request the mock
// recorded, with what the request said and what the mock answered. Parsing (parse.go) fills it
// from the recorded exchanges; the verdict functions (judge.go) read only this.

// Ports of the XTA server and the paths the mock serves them at (docs/sut-contract.md §7).
const (
	PortManagement = "ManagementPort"
	PortMsgBox     = "MsgBoxPort"
	PortSend       = "SendXtaPort"

	PathManagement = "/MB_XTA-WS/XTA210managementPort.svc"
	PathMsgBox     = "/MB_XTA-WS/XTA210msgBoxPort.svc"
	PathSend       = "/MB_XTA-WS/XTA210sendPort.svc"
)

// Operations of XTA.wsdl (web service 2.1.1).
const (
	OpCheckAccountActive = "checkAccountActive"
	OpCreateMessageID    = "createMessageId"
	OpGetTransportReport = "getTransportReport"
	OpLookupService      = "lookupService"
	OpCancelMessage      = "cancelMessage"
	OpSendMessage        = "sendMessage"
	OpSendMessageSync    = "sendMessageSync"
	OpGetStatusList      = "getStatusList"
	OpGetNextStatusList  = "getNextStatusList"
	OpGetMessage         = "getMessage"
	OpGetNextMessage     = "getNextMessage"
	OpClose              = "close"
)

const (
	actionXTA   = "http://www.xta.de/XTA/"
	actionMsgBx = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/"
)

// operation is one WSDL operation: its port, its wsam:Action (= soapAction) and the local names
// of the body elements its input may carry ("" for an empty body).
type operation struct {
	name, port, action string
	body               []string
}

// operations is XTA.wsdl's table of operations (../shared/specs/xta2-v3/XTA.wsdl).
var operations = []operation{
	{OpCheckAccountActive, PortManagement, actionXTA + "CheckAccountActive", []string{""}},
	{OpCreateMessageID, PortManagement, actionXTA + "CreateMessageID", []string{""}},
	{OpGetTransportReport, PortManagement, actionXTA + "GetTransportReport", []string{"MessageID"}},
	{OpLookupService, PortManagement, actionXTA + "IsServiceAvailable", []string{"LookupServiceRequest"}},
	{OpCancelMessage, PortManagement, actionXTA + "CancelMessage", []string{"MessageID"}},
	{OpSendMessage, PortSend, actionXTA + "SendMessage", []string{"GenericContentContainer"}},
	{OpSendMessageSync, PortSend, actionXTA + "SendMessageSync", []string{"GenericContentContainer"}},
	{OpGetStatusList, PortMsgBox, actionMsgBx + "MsgBoxStatusListRequest", []string{"MsgBoxStatusListRequest"}},
	{OpGetNextStatusList, PortMsgBox, actionMsgBx + "MsgBoxGetNextListRequest", []string{"MsgBoxGetNextRequest"}},
	{OpGetMessage, PortMsgBox, actionMsgBx + "MsgBoxFetchRequest", []string{"MsgBoxFetchRequest"}},
	{OpGetNextMessage, PortMsgBox, actionMsgBx + "MsgBoxGetNextMsgRequest", []string{"MsgBoxGetNextRequest"}},
	{OpClose, PortMsgBox, actionMsgBx + "MsgBoxCloseRequest", []string{"MsgBoxCloseRequest"}},
}

func operationByAction(action string) (operation, bool) {
	for _, o := range operations {
		if o.action == action {
			return o, true
		}
	}
	return operation{}, false
}

func operationByName(name string) (operation, bool) {
	for _, o := range operations {
		if o.name == name {
			return o, true
		}
	}
	return operation{}, false
}

// PortOfPath names the port the mock serves at the URL path, "" for none.
func PortOfPath(path string) string {
	switch strings.TrimRight(path, "/") {
	case PathManagement:
		return PortManagement
	case PathMsgBox:
		return PortMsgBox
	case PathSend:
		return PortSend
	}
	return ""
}

// Reasons of NoMessageAvailable (OSCI2_02.xsd).
const (
	ReasonPrefix            = "http://www.osci.eu/ws/2008/05/transport/MsgBox/reasons/"
	ReasonNoMatch           = ReasonPrefix + "NoMatch"
	ReasonSearchArgsInvalid = ReasonPrefix + "SearchArgsInvalid"
	ReasonRequestIDInvalid  = ReasonPrefix + "RequestIdInvalid"
)

// Fault kinds the mock answers with, as a Call names them.
const (
	FaultTechnical        = "technical"
	FaultPermission       = "permission"
	FaultInvalidID        = "invalid-id"
	FaultRequestIDInvalid = "request-id-invalid"
	FaultReset            = "reset"
)

// WSA are the WS-Addressing headers of a request.
type WSA struct {
	Action, MessageID, To, ReplyTo string
}

// Call is one request the SUT made at the XTA server and what the server answered.
type Call struct {
	Seq  int64
	Time time.Time
	// Path is the URL path called; Port the port served there ("" for none).
	Path, Port string
	// TLS says the request came over TLS; ClientCert is the SHA-256 fingerprint (hex) of the
	// client certificate it presented, "" for none.
	TLS        bool
	ClientCert string
	// Account is the reader the server knows the client certificate as ("" for none).
	Account string
	// ContentType is the HTTP Content-Type; XOP says it is multipart/related with
	// type="application/xop+xml"; SOAP12 that the envelope is SOAP 1.2.
	ContentType string
	XOP, SOAP12 bool
	// Action is the SOAP action the request states (the action parameter of the Content-Type or
	// its start-info, or a SOAPAction header); Op the operation wsa:Action (else Action) names.
	Action, Op string
	// BodyElement is the local name of the body's first element ("" for an empty body).
	BodyElement string
	WSA         WSA
	// Request content: MessageIDs of a getMessage's MsgSelector, the MsgBoxRequestID and
	// LastMsgReceived of getNext*/close.
	SelectorIDs     []string
	RequestID       string
	LastMsgReceived []string

	// The answer: HTTP status, the fault the mock injected or answered ("" none; a fault kind
	// or the XTA fault's local name), the MsgBoxResponse and what it listed or delivered.
	Status          int
	Fault           string
	AnswerRequestID string
	ItemsPending    int
	HasItemsPending bool
	NoMessage       string // NoMessageAvailable@reason
	Listed          []string
	Delivered       string // MessageID of the message a getMessage/getNextMessage answer delivered
	// Unparsed says why the request or its answer could not be read ("" when both could);
	// AnswerUnparsed why the answer could not ("" when it could or there was none).
	Unparsed, AnswerUnparsed string
}

// String names the call for failure messages: #seq op (port) at time.
func (c Call) String() string {
	op := c.Op
	if op == "" {
		op = "request"
	}
	return fmt.Sprintf("#%d %s (%s) at %s", c.Seq, op, or(c.Path, "?"), c.Time.UTC().Format("15:04:05.000"))
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// IsSOAP says whether the call was a SOAP request to one of the ports (not the control API).
func (c Call) IsSOAP() bool { return c.Port != "" }

// answered says the mock gave a regular answer (HTTP 200, no fault).
func (c Call) answered() bool { return c.Status == 200 && c.Fault == "" }

// RoundStarts are the calls that start a listing round: every getStatusList.
func RoundStarts(calls []Call) []Call {
	var out []Call
	for _, c := range calls {
		if c.Op == OpGetStatusList {
			out = append(out, c)
		}
	}
	return out
}
