// Package xta is the XTA 2 Version 3 wire format (Webservice module 2.1.1): element structs for
// encoding/xml, the operations' Actions and port paths, the error codes and exceptions, the
// NoMessageAvailable reasons, and helpers to build request and response envelopes and read
// faults. Element order and namespaces follow XTA.wsdl, OSCI2_02.xsd,
// OSCI_MessageMetaData_V2.02.xsd and XTA-Webservice-*.xsd.
package xta

// Namespaces.
const (
	NS     = "http://xoev.de/transport/xta/211"        // xta
	NSOSCI = "http://www.osci.eu/ws/2008/05/transport" // OSCI 2 transport (osci)
	NSMeta = "http://www.osci.eu/ws/2014/10/transport" // MessageMetaData (oscimeta)
	NSWSA  = "http://www.w3.org/2005/08/addressing"
)

// Port paths under a server's base URL, as real XTA 2 servers name them.
const (
	PathManagement = "/MB_XTA-WS/XTA210managementPort.svc"
	PathMsgBox     = "/MB_XTA-WS/XTA210msgBoxPort.svc"
	PathSend       = "/MB_XTA-WS/XTA210sendPort.svc"
)

// Actions: the wsam:Action of each operation in XTA.wsdl; input, output and faults share it,
// and the binding's soapAction equals it.
const (
	ActionCheckAccountActive = "http://www.xta.de/XTA/CheckAccountActive"
	ActionLookupService      = "http://www.xta.de/XTA/IsServiceAvailable"
	ActionGetTransportReport = "http://www.xta.de/XTA/GetTransportReport"
	ActionCancelMessage      = "http://www.xta.de/XTA/CancelMessage"
	ActionCreateMessageID    = "http://www.xta.de/XTA/CreateMessageID"
	ActionSendMessage        = "http://www.xta.de/XTA/SendMessage"
	ActionSendMessageSync    = "http://www.xta.de/XTA/SendMessageSync"
	ActionGetMessage         = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxFetchRequest"
	ActionGetStatusList      = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxStatusListRequest"
	ActionGetNextMessage     = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxGetNextMsgRequest"
	ActionGetNextStatusList  = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxGetNextListRequest"
	ActionClose              = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxCloseRequest"
)

// NoMessageAvailable reasons (OSCI2_02.xsd MsgBoxReasonEnum).
const (
	ReasonNoMatch           = "http://www.osci.eu/ws/2008/05/transport/MsgBox/reasons/NoMatch"
	ReasonSearchArgsInvalid = "http://www.osci.eu/ws/2008/05/transport/MsgBox/reasons/SearchArgsInvalid"
	ReasonRequestIDInvalid  = "http://www.osci.eu/ws/2008/05/transport/MsgBox/reasons/RequestIdInvalid"
)

// MsgBoxStatusListRequest@ListForm values (the first is misspelt in OSCI2_02.xsd, as here).
const (
	ListFormMsgAttributes   = "MsgAtrributes"
	ListFormMessageMetaData = "MessageMetaData"
)

// IdentifierTypeXoev is the PartyIdentifier@type real XTA clients use for XÖV identities.
const IdentifierTypeXoev = "xoev"

// Operation is one WSDL operation with the port that serves it.
type Operation struct {
	Name   string // as in the WSDL, e.g. "getStatusList"
	Action string
	Path   string // port path
}

// The operations this kit uses (cancelMessage and sendMessageSync are not served by the mock).
var (
	OpCheckAccountActive = Operation{"checkAccountActive", ActionCheckAccountActive, PathManagement}
	OpCreateMessageID    = Operation{"createMessageId", ActionCreateMessageID, PathManagement}
	OpGetTransportReport = Operation{"getTransportReport", ActionGetTransportReport, PathManagement}
	OpLookupService      = Operation{"lookupService", ActionLookupService, PathManagement}
	OpCancelMessage      = Operation{"cancelMessage", ActionCancelMessage, PathManagement}
	OpGetStatusList      = Operation{"getStatusList", ActionGetStatusList, PathMsgBox}
	OpGetMessage         = Operation{"getMessage", ActionGetMessage, PathMsgBox}
	OpGetNextStatusList  = Operation{"getNextStatusList", ActionGetNextStatusList, PathMsgBox}
	OpGetNextMessage     = Operation{"getNextMessage", ActionGetNextMessage, PathMsgBox}
	OpClose              = Operation{"close", ActionClose, PathMsgBox}
	OpSendMessage        = Operation{"sendMessage", ActionSendMessage, PathSend}
	OpSendMessageSync    = Operation{"sendMessageSync", ActionSendMessageSync, PathSend}
)

// Operations lists every operation above.
var Operations = []Operation{
	OpCheckAccountActive, OpCreateMessageID, OpGetTransportReport, OpLookupService, OpCancelMessage,
	OpGetStatusList, OpGetMessage, OpGetNextStatusList, OpGetNextMessage, OpClose,
	OpSendMessage, OpSendMessageSync,
}

// OperationFor returns the operation of port path with action; ok is false when the port has none.
func OperationFor(path, action string) (Operation, bool) {
	for _, op := range Operations {
		if op.Path == path && op.Action == action {
			return op, true
		}
	}
	return Operation{}, false
}

// OperationNamed returns the operation called name.
func OperationNamed(name string) (Operation, bool) {
	for _, op := range Operations {
		if op.Name == name {
			return op, true
		}
	}
	return Operation{}, false
}
