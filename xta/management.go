package xta

import "encoding/xml"

// MessageID is a bare wsa:MessageID element: createMessageId's response body and
// getTransportReport's request body.
type MessageID struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/08/addressing MessageID"`
	Value   string   `xml:",chardata"`
}

// LookupServiceRequest is lookupService's body.
type LookupServiceRequest struct {
	XMLName                  xml.Name                   `xml:"http://xoev.de/transport/xta/211 LookupServiceRequest"`
	LookupServiceRequestList []LookupServiceRequestItem `xml:"http://xoev.de/transport/xta/211 LookupServiceRequestList"`
}

// LookupServiceRequestItem is one LookupServiceRequestList entry.
type LookupServiceRequestItem struct {
	LookupService LookupService `xml:"http://xoev.de/transport/xta/211 LookupService"`
}

// LookupService asks whether Reader offers ServiceType.
type LookupService struct {
	Reader      Party  `xml:"http://www.osci.eu/ws/2014/10/transport Reader"`
	ServiceType string `xml:"http://xoev.de/transport/xta/211 ServiceType"`
}

// LookupServiceResponse is lookupService's response body.
type LookupServiceResponse struct {
	XMLName                 xml.Name          `xml:"http://xoev.de/transport/xta/211 LookupServiceResponse"`
	LookupServiceResultList LookupServiceList `xml:"http://xoev.de/transport/xta/211 LookupServiceResultList"`
}

// LookupServiceList holds the results.
type LookupServiceList struct {
	LookupServiceResult []LookupServiceResult `xml:"http://xoev.de/transport/xta/211 LookupServiceResult"`
}

// LookupServiceResult answers one LookupService (ServiceParameter is not modelled).
type LookupServiceResult struct {
	Reader                  Party                   `xml:"http://www.osci.eu/ws/2014/10/transport Reader"`
	ServiceType             string                  `xml:"http://xoev.de/transport/xta/211 ServiceType"`
	IsServiceAvailableValue IsServiceAvailableValue `xml:"http://xoev.de/transport/xta/211 IsServiceAvailableValue"`
}

// IsServiceAvailableValue is a choice: ServiceIsAvailable (true/false) or ServiceIsAvailableUnknown
// (fixed true). Set exactly one.
type IsServiceAvailableValue struct {
	ServiceIsAvailable        *bool `xml:"http://xoev.de/transport/xta/211 ServiceIsAvailable,omitempty"`
	ServiceIsAvailableUnknown *bool `xml:"http://xoev.de/transport/xta/211 ServiceIsAvailableUnknown,omitempty"`
}

// TransportReport is getTransportReport's response body (AdditionalReports and ds:Signature are
// not modelled).
type TransportReport struct {
	XMLName           xml.Name        `xml:"http://xoev.de/transport/xta/211 TransportReport"`
	MessageMetaData   MessageMetaData `xml:"http://www.osci.eu/ws/2014/10/transport MessageMetaData"`
	ReportTime        string          `xml:"http://xoev.de/transport/xta/211 ReportTime"`
	XTAServerIdentity string          `xml:"http://xoev.de/transport/xta/211 XTAServerIdentity"`
	MessageStatus     MessageStatus   `xml:"http://xoev.de/transport/xta/211 MessageStatus"`
}

// Transport report status values (XTA-Webservice-Datentypen.xsd MessageStatusType).
const (
	StatusOpen   = 0 // offen
	StatusGreen  = 1 // grün: delivered
	StatusYellow = 2 // gelb: warnings
	StatusRed    = 3 // rot: failed
)

// MessageStatus is the status with optional error, warning and info lists.
type MessageStatus struct {
	Status    int         `xml:"http://xoev.de/transport/xta/211 Status"`
	ErrorList *RecordList `xml:"http://xoev.de/transport/xta/211 ErrorList,omitempty"`
	WarnList  *RecordList `xml:"http://xoev.de/transport/xta/211 WarnList,omitempty"`
	InfoList  *RecordList `xml:"http://xoev.de/transport/xta/211 InfoList,omitempty"`
}

// RecordList holds records; the element name of a record depends on the list (Error, Warning,
// Info), so each list has its own field and only the matching one is used.
type RecordList struct {
	Error   []Record `xml:"http://xoev.de/transport/xta/211 Error"`
	Warning []Record `xml:"http://xoev.de/transport/xta/211 Warning"`
	Info    []Record `xml:"http://xoev.de/transport/xta/211 Info"`
}

// Record is one report entry; Code's listURI and listVersionID are required.
type Record struct {
	Timestamp string `xml:"http://xoev.de/transport/xta/211 Timestamp"`
	Code      Code   `xml:"http://xoev.de/transport/xta/211 Code"`
	Reason    string `xml:"http://xoev.de/transport/xta/211 Reason"`
}
