package xta

import "encoding/xml"

// Times in MessageMetaData and OSCI 2 are xs:dateTime (xs:date where named) and kept as text,
// so a value without a zone still reads; write them with TimeFormat.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// MessageMetaData is oscimeta:MessageMetaData (OSCI_MessageMetaData_V2.02.xsd).
type MessageMetaData struct {
	XMLName            xml.Name           `xml:"http://www.osci.eu/ws/2014/10/transport MessageMetaData"`
	TestMsg            bool               `xml:"TestMsg,attr,omitempty"`
	DeliveryAttributes DeliveryAttributes `xml:"http://www.osci.eu/ws/2014/10/transport DeliveryAttributes"`
	Originators        Originators        `xml:"http://www.osci.eu/ws/2014/10/transport Originators"`
	Destinations       Destinations       `xml:"http://www.osci.eu/ws/2014/10/transport Destinations"`
	MsgIdentification  MsgIdentification  `xml:"http://www.osci.eu/ws/2014/10/transport MsgIdentification"`
	Qualifier          Qualifier          `xml:"http://www.osci.eu/ws/2014/10/transport Qualifier"`
	MessageProperties  *MessageProperties `xml:"http://www.osci.eu/ws/2014/10/transport MessageProperties,omitempty"`
	// MsgSize is xs:positiveInteger: 0 leaves it out.
	MsgSize int64 `xml:"http://www.osci.eu/ws/2014/10/transport MsgSize,omitempty"`
}

// DeliveryAttributes (ReceiptRequests is not modelled).
type DeliveryAttributes struct {
	Origin         string `xml:"http://www.osci.eu/ws/2014/10/transport Origin,omitempty"`
	InitialSend    string `xml:"http://www.osci.eu/ws/2014/10/transport InitialSend,omitempty"`
	NotBefore      string `xml:"http://www.osci.eu/ws/2014/10/transport NotBefore,omitempty"`
	ObsoleteAfter  string `xml:"http://www.osci.eu/ws/2014/10/transport ObsoleteAfter,omitempty"` // xs:date
	Delivery       string `xml:"http://www.osci.eu/ws/2014/10/transport Delivery,omitempty"`
	InitialFetch   string `xml:"http://www.osci.eu/ws/2014/10/transport InitialFetch,omitempty"`
	Reception      string `xml:"http://www.osci.eu/ws/2014/10/transport Reception,omitempty"`
	ServiceQuality string `xml:"http://www.osci.eu/ws/2014/10/transport ServiceQuality,omitempty"`
}

// Party is oscimeta:PartyType, the type of Author, Reader, Sender and ReplyTo (SecurityToken is
// not modelled).
type Party struct {
	Identifier PartyIdentifier `xml:"http://www.osci.eu/ws/2014/10/transport Identifier"`
}

// PartyIdentifier is the identifier text with its type (required), name and category.
type PartyIdentifier struct {
	Value    string `xml:",chardata"`
	Type     string `xml:"type,attr"`
	Name     string `xml:"name,attr,omitempty"`
	Category string `xml:"category,attr,omitempty"`
}

// NewParty returns a party with identifier value of type typ.
func NewParty(typ, value string) Party {
	return Party{Identifier: PartyIdentifier{Value: value, Type: typ}}
}

// Author is oscimeta:Author, also the optional request header of most operations.
type Author struct {
	XMLName xml.Name `xml:"http://www.osci.eu/ws/2014/10/transport Author"`
	Party
}

// Originators is Author, Sender?, ReplyTo?.
type Originators struct {
	Author  Party  `xml:"http://www.osci.eu/ws/2014/10/transport Author"`
	Sender  *Party `xml:"http://www.osci.eu/ws/2014/10/transport Sender,omitempty"`
	ReplyTo *Party `xml:"http://www.osci.eu/ws/2014/10/transport ReplyTo,omitempty"`
}

// Destinations is Reader, OtherDestinations?.
type Destinations struct {
	Reader            Party              `xml:"http://www.osci.eu/ws/2014/10/transport Reader"`
	OtherDestinations *OtherDestinations `xml:"http://www.osci.eu/ws/2014/10/transport OtherDestinations,omitempty"`
}

// OtherDestinations is informational: OtherReaders+, CcReaders*.
type OtherDestinations struct {
	OtherReaders []PartyIdentifier `xml:"http://www.osci.eu/ws/2014/10/transport OtherReaders"`
	CcReaders    []PartyIdentifier `xml:"http://www.osci.eu/ws/2014/10/transport CcReaders"`
}

// MsgIdentification carries the message's wsa:MessageID.
type MsgIdentification struct {
	MessageID  string      `xml:"http://www.w3.org/2005/08/addressing MessageID"`
	InReplyTo  []string    `xml:"http://www.osci.eu/ws/2014/10/transport In-Reply-To"`
	ProcessRef *ProcessRef `xml:"http://www.osci.eu/ws/2014/10/transport ProcessRef,omitempty"`
}

// ProcessRef references business process IDs.
type ProcessRef struct {
	Requester *ProcessIdentifier `xml:"http://www.osci.eu/ws/2014/10/transport Requester,omitempty"`
	Responder *ProcessIdentifier `xml:"http://www.osci.eu/ws/2014/10/transport Responder,omitempty"`
}

// ProcessIdentifier is a process ID with an optional name (the attribute is spelt ProccesName).
type ProcessIdentifier struct {
	Value       string `xml:",chardata"`
	ProccesName string `xml:"ProccesName,attr,omitempty"`
}

// Qualifier is Subject?, Service, BusinessScenario, MessageType.
type Qualifier struct {
	Subject          string           `xml:"http://www.osci.eu/ws/2014/10/transport Subject,omitempty"`
	Service          string           `xml:"http://www.osci.eu/ws/2014/10/transport Service"`
	BusinessScenario BusinessScenario `xml:"http://www.osci.eu/ws/2014/10/transport BusinessScenario"`
	MessageType      MessageType      `xml:"http://www.osci.eu/ws/2014/10/transport MessageType"`
}

// BusinessScenario is a choice: Defined (a KeyCode, listURI and listVersionID required) or
// Undefined (text). Set exactly one.
type BusinessScenario struct {
	Defined   *Code  `xml:"http://www.osci.eu/ws/2014/10/transport Defined,omitempty"`
	Undefined string `xml:"http://www.osci.eu/ws/2014/10/transport Undefined,omitempty"`
}

// MessageType is a KeyCode (code, name?, @listURI, @listVersionID required) with a required
// @payloadSchema.
type MessageType struct {
	Code
	PayloadSchema string `xml:"payloadSchema,attr"`
}

// MarshalXML writes the code with payloadSchema.
func (m MessageType) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return m.Code.marshal(e, start, xml.Attr{Name: xml.Name{Local: "payloadSchema"}, Value: m.PayloadSchema})
}

// MessageProperties holds scenario-specific properties.
type MessageProperties struct {
	Property []Property `xml:"http://www.osci.eu/ws/2014/10/transport Property"`
}

// Property is a KeyCode key with a value.
type Property struct {
	Key   Code   `xml:"http://www.osci.eu/ws/2014/10/transport Key"`
	Value string `xml:"http://www.osci.eu/ws/2014/10/transport Value"`
}
