package sender

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/konform/konform/xta"
)

// The XTA side of the online service: a fixture's XÖV document and its attachments become one
// XTA 2 (Version 3) message as an author's transport node would hand it to the SUT's mailbox
// (docs/sut-contract.md §7): the document as the ContentContainer's Message, every attachment as an
// Attachment, and MessageMetaData naming author, reader, service, business scenario and
// message type. The suites put the offer into the XTA mock's mailbox (suites/drive/xta.go).

// Values of the XTA MessageMetaData the sender writes (../shared/domain/xta-reader-anchors.md
// §4, xta-xoev-hkr.md §1).
const (
	// XTAIdentifierType is the type of every party Identifier: real clients write "xoev"
	// (Erzwingungshaft RequestMapper.IDENTIFIER_TYPE, KoSIT configDefault identifierScheme).
	XTAIdentifierType = "xoev"
	// XTAMessageTypeListURI and XTAMessageTypeListVersionID qualify the MessageType code as the
	// payload's root element name (Erzwingungshaft RequestMapper constants).
	XTAMessageTypeListURI       = "urn:de:payloadSchema:elementName"
	XTAMessageTypeListVersionID = "1.0"
	// XTABusinessScenarioXBau is the OSCI subject / container name of XBau (XBau DVDV WSDLs,
	// XBAU-81), sent as BusinessScenario Undefined: whether XBAU_DATA is a member of the
	// business-scenario code list is unverified.
	XTABusinessScenarioXBau = "XBAU_DATA"
	// XTAServiceXBau23 is the DVDV service URI of XBau 2.3 for messages from a building portal
	// to the building authority (t12v/xbau-releases artifacts/xbau/2.3/wsdl/XBau23-BGV-BH2BAB.wsdl).
	// Kit decision after xta-reader-anchors.md §4: Qualifier.Service is the DVDV service URI of
	// the fixtures' XBau version (2.3.x); no XBau-over-XTA message shows the value.
	XTAServiceXBau23 = "http://www.xleitstelle.de/xbau/2/3/XBau23-BGV-BH2BAB.wsdl"
	// XTADefaultAuthor is the online service's (building portal's) identity when the run names
	// none; the DVDV prefix of portals is not known, so "bpt" is the kit's choice.
	XTADefaultAuthor = "bpt:099990000001"
	// XTAOtherReader is the reader BreakXTAOtherReader names: not the SUT.
	XTAOtherReader = "bab:099990000999"
	// XTAUnsupportedMessageType is the MessageType code BreakXTAUnsupportedMessageType declares:
	// no service of any SUT lists it.
	XTAUnsupportedMessageType = "konform.nichtUnterstuetzt.9999"
	// XTAMessageIDPrefix starts the MessageIDs the sender issues (urn:de:xta:messageid style,
	// xta-reader-anchors.md §4).
	XTAMessageIDPrefix = "urn:de:xta:messageid:konform:"
)

// XTABreakage is one deliberate defect of an XTA message, each naming the reader duty it probes.
type XTABreakage int

const (
	// XTABreakNone offers a correct message.
	XTABreakNone XTABreakage = iota
	// BreakXTAPayloadInvalid offers the XÖV document with an element its schema does not expect
	// as the root's first child (UnexpectedElement): well-formed, the right root, invalid
	// against the XSD. Duty: validate, send a Rückweisung (1100) to the author, store no case,
	// close the message.
	BreakXTAPayloadInvalid
	// BreakXTAOtherReader names another reader (XTAOtherReader, or XTAMessage.OtherReader) in
	// the metadata. Duty: evaluate Reader before taking the message.
	BreakXTAOtherReader
	// BreakXTAReuseMessageID offers the message under a MessageID already delivered
	// (XTAMessage.ReuseMessageID). Duty: one case per MessageID.
	BreakXTAReuseMessageID
	// BreakXTASameNachrichtenUUID offers, under a new MessageID, an XÖV document whose
	// nachrichtenUUID was already delivered (the caller passes the same message again). Duty:
	// one case per XÖV message.
	BreakXTASameNachrichtenUUID
	// BreakXTAUnsupportedMessageType declares the MessageType code XTAUnsupportedMessageType
	// (payload unchanged). Duty: evaluate Service and MessageType before taking the message.
	BreakXTAUnsupportedMessageType
)

var xtaBreakNames = map[XTABreakage]string{
	XTABreakNone:                   "none",
	BreakXTAPayloadInvalid:         "xta-payload-invalid",
	BreakXTAOtherReader:            "xta-other-reader",
	BreakXTAReuseMessageID:         "xta-reuse-message-id",
	BreakXTASameNachrichtenUUID:    "xta-same-nachrichten-uuid",
	BreakXTAUnsupportedMessageType: "xta-unsupported-message-type",
}

// XTABreakages lists every defect the XTA sender can produce.
var XTABreakages = []XTABreakage{
	BreakXTAPayloadInvalid, BreakXTAOtherReader, BreakXTAReuseMessageID,
	BreakXTASameNachrichtenUUID, BreakXTAUnsupportedMessageType,
}

func (b XTABreakage) String() string {
	if s, ok := xtaBreakNames[b]; ok {
		return s
	}
	return fmt.Sprintf("XTABreakage(%d)", int(b))
}

// XTAMessage is what the online service hands to its XTA node: the XÖV document, the
// attachments and the addressing.
type XTAMessage struct {
	Data        Part // the XÖV document (XML)
	Attachments []Attachment
	// Author is the online service's identifier (type xoev); empty: XTADefaultAuthor.
	Author string
	// Reader is the SUT's reader identifier (KONFORM_XTA_READER_ID).
	Reader string
	// Service is Qualifier.Service; empty: XTAServiceXBau23.
	Service string
	// BusinessScenario is the Undefined business scenario; empty: XTABusinessScenarioXBau.
	BusinessScenario string
	// MessageID is the XTA MessageID; empty: a new one (NewXTAMessageID).
	MessageID string
	Break     XTABreakage
	// ReuseMessageID is the MessageID already delivered that BreakXTAReuseMessageID offers again.
	ReuseMessageID string
	// OtherReader is the reader BreakXTAOtherReader names; empty: XTAOtherReader.
	OtherReader string
}

// XTAParty is a PartyType: Identifier text with its type (and optional name, category).
type XTAParty struct {
	Identifier string
	Type       string
	Name       string
	Category   string
}

// XTAKeyCode is a KeyCode: code with listURI and listVersionID.
type XTAKeyCode struct {
	Code          string
	ListURI       string
	ListVersionID string
}

// XTAContent is one ContentType of the ContentContainer: the content and its attributes.
type XTAContent struct {
	Part
	ContentType string // MIME type (@contentType)
	Encoding    string // @encoding, for the XÖV document UTF-8
	Filename    string // @filename
	ID          string // @id
}

// XTAOffer is one message ready for a mailbox: MessageMetaData and ContentContainer.
type XTAOffer struct {
	MessageID        string
	Author           XTAParty
	Reader           XTAParty
	Service          string
	BusinessScenario string // Qualifier.BusinessScenario.Undefined
	MessageType      XTAKeyCode
	// PayloadSchema is MessageType@payloadSchema: the namespace of the payload's root.
	PayloadSchema string
	Message       XTAContent
	Attachments   []XTAContent
	// NachrichtenUUID is the XÖV nachrichtenUUID of the document sent (empty when it has none).
	NachrichtenUUID string
	// RootElement is the local name of the document's root; RootNamespace its namespace.
	RootElement, RootNamespace string
	Break                      XTABreakage
}

// NewXTAMessageID returns a fresh MessageID the sender issues.
func NewXTAMessageID() string { return XTAMessageIDPrefix + uuid.NewString() }

// BuildXTAOffer turns the message into an offer, applying its breakage. It reads the document
// once (a few hundred kB at most) to learn its root and nachrichtenUUID; attachments stream.
func BuildXTAOffer(m XTAMessage) (XTAOffer, error) {
	if m.Data.Open == nil {
		return XTAOffer{}, errors.New("sender: XTA message without an XÖV document")
	}
	if m.Reader == "" {
		return XTAOffer{}, errors.New("sender: XTA message without a reader")
	}
	data := m.Data
	if m.Break == BreakXTAPayloadInvalid {
		var err error
		if data, err = WithUnexpectedElement(data); err != nil {
			return XTAOffer{}, err
		}
	}
	raw, err := readAll(data)
	if err != nil {
		return XTAOffer{}, err
	}
	info, err := xoevInfo(raw)
	if err != nil {
		return XTAOffer{}, err
	}
	o := XTAOffer{
		MessageID:        m.MessageID,
		Author:           XTAParty{Identifier: or(m.Author, XTADefaultAuthor), Type: XTAIdentifierType},
		Reader:           XTAParty{Identifier: m.Reader, Type: XTAIdentifierType},
		Service:          or(m.Service, XTAServiceXBau23),
		BusinessScenario: or(m.BusinessScenario, XTABusinessScenarioXBau),
		MessageType:      XTAKeyCode{Code: info.root, ListURI: XTAMessageTypeListURI, ListVersionID: XTAMessageTypeListVersionID},
		PayloadSchema:    info.namespace,
		NachrichtenUUID:  info.uuid,
		RootElement:      info.root,
		RootNamespace:    info.namespace,
		Break:            m.Break,
	}
	if o.MessageID == "" {
		o.MessageID = NewXTAMessageID()
	}
	filename := "nachricht.xml"
	if info.uuid != "" {
		filename = info.uuid + ".xml"
	}
	o.Message = XTAContent{Part: Bytes(or(data.MimeType, mimeXML), raw), ContentType: or(data.MimeType, mimeXML), Encoding: "UTF-8", Filename: filename, ID: "nachricht"}
	for i, a := range m.Attachments {
		ct := or(a.MimeType, "application/octet-stream")
		o.Attachments = append(o.Attachments, XTAContent{Part: a.Part, ContentType: ct, Filename: a.Filename, ID: fmt.Sprintf("anlage-%d", i+1)})
	}
	switch m.Break {
	case BreakXTAOtherReader:
		o.Reader.Identifier = or(m.OtherReader, XTAOtherReader)
		if o.Reader.Identifier == m.Reader {
			return XTAOffer{}, fmt.Errorf("sender: %s: the other reader %q is the SUT's", m.Break, m.Reader)
		}
	case BreakXTAReuseMessageID:
		if m.ReuseMessageID == "" {
			return XTAOffer{}, fmt.Errorf("sender: %s needs the MessageID already delivered", m.Break)
		}
		o.MessageID = m.ReuseMessageID
	case BreakXTASameNachrichtenUUID:
		if info.uuid == "" {
			return XTAOffer{}, fmt.Errorf("sender: %s: the document has no nachrichtenUUID", m.Break)
		}
		if m.MessageID == "" {
			o.MessageID = NewXTAMessageID()
		}
	case BreakXTAUnsupportedMessageType:
		o.MessageType.Code = XTAUnsupportedMessageType
	}
	return o, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

type xoevDoc struct{ root, namespace, uuid string }

// xoevInfo reads the root element and the nachrichtenUUID (nachrichtenkopf /
// identifikation.nachricht / nachrichtenUUID, any namespace) of an XÖV document.
func xoevInfo(raw []byte) (xoevDoc, error) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	var d xoevDoc
	var path []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if d.root != "" {
				break // the rest is not needed
			}
			return d, fmt.Errorf("sender: the XÖV document is not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if d.root == "" {
				d.root, d.namespace = t.Name.Local, t.Name.Space
			}
			path = append(path, t.Name.Local)
		case xml.EndElement:
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		case xml.CharData:
			if d.uuid == "" && len(path) == 4 && strings.Join(path[1:], "/") == "nachrichtenkopf/identifikation.nachricht/nachrichtenUUID" {
				d.uuid = strings.TrimSpace(string(t))
				return d, nil
			}
		}
	}
	if d.root == "" {
		return d, errors.New("sender: the XÖV document has no root element")
	}
	return d, nil
}

// MetaData is the offer's MessageMetaData (OSCI_MessageMetaData_V2.02.xsd) as the author's node
// writes it: Originators/Author, Destinations/Reader, MsgIdentification/MessageID and the
// Qualifier (Service, BusinessScenario Undefined, MessageType with payloadSchema). The server
// fills the delivery attributes.
func (o XTAOffer) MetaData() xta.MessageMetaData {
	md := xta.MessageMetaData{
		Originators:       xta.Originators{Author: party(o.Author)},
		Destinations:      xta.Destinations{Reader: party(o.Reader)},
		MsgIdentification: xta.MsgIdentification{MessageID: o.MessageID},
		Qualifier: xta.Qualifier{
			Service:          o.Service,
			BusinessScenario: xta.BusinessScenario{Undefined: o.BusinessScenario},
			MessageType: xta.MessageType{
				Code:          xta.Code{Code: o.MessageType.Code, ListURI: o.MessageType.ListURI, ListVersionID: o.MessageType.ListVersionID},
				PayloadSchema: o.PayloadSchema,
			},
		},
	}
	size := o.Message.Size
	for _, a := range o.Attachments {
		if a.Size <= 0 {
			size = 0
			break
		}
		size += a.Size
	}
	if size > 0 {
		md.MsgSize = size
	}
	return md
}

func party(p XTAParty) xta.Party {
	x := xta.NewParty(or(p.Type, XTAIdentifierType), p.Identifier)
	x.Identifier.Name, x.Identifier.Category = p.Name, p.Category
	return x
}
