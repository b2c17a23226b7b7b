package sender

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/konform/konform/xta/xsdtest"
)

const xtaDoc = `<?xml version="1.0" encoding="UTF-8"?>
<xbau:baugenehmigung.antrag.0200 xmlns:xbau="http://www.xleitstelle.de/xbau/2/3/1" version="2.3.1">
  <nachrichtenkopf>
    <identifikation.nachricht>
      <nachrichtenUUID>5e2b0001-4001-4001-8001-000000000001</nachrichtenUUID>
    </identifikation.nachricht>
  </nachrichtenkopf>
  <antragsteller><nachrichtenUUID>not-this-one</nachrichtenUUID></antragsteller>
</xbau:baugenehmigung.antrag.0200>
`

func xtaMsg(b XTABreakage) XTAMessage {
	return XTAMessage{
		Data:        Bytes("application/xml", []byte(xtaDoc)),
		Attachments: []Attachment{{Part: Bytes("application/pdf", []byte("%PDF-1.4")), Filename: "lageplan.pdf", Purpose: "attachment"}},
		Reader:      "bab:010010000000",
		Break:       b,
	}
}

func TestBuildXTAOfferMetadata(t *testing.T) {
	o, err := BuildXTAOffer(xtaMsg(XTABreakNone))
	if err != nil {
		t.Fatal(err)
	}
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	check("MessageType.Code", o.MessageType.Code, "baugenehmigung.antrag.0200")
	check("MessageType.ListURI", o.MessageType.ListURI, "urn:de:payloadSchema:elementName")
	check("MessageType.ListVersionID", o.MessageType.ListVersionID, "1.0")
	check("PayloadSchema", o.PayloadSchema, "http://www.xleitstelle.de/xbau/2/3/1")
	check("Service", o.Service, XTAServiceXBau23)
	check("BusinessScenario", o.BusinessScenario, "XBAU_DATA")
	check("Reader", o.Reader.Identifier, "bab:010010000000")
	check("Reader.Type", o.Reader.Type, "xoev")
	check("Author.Type", o.Author.Type, "xoev")
	check("Author", o.Author.Identifier, XTADefaultAuthor)
	check("NachrichtenUUID", o.NachrichtenUUID, "5e2b0001-4001-4001-8001-000000000001")
	check("Message.ContentType", o.Message.ContentType, "application/xml")
	check("Message.Encoding", o.Message.Encoding, "UTF-8")
	check("Message.Filename", o.Message.Filename, "5e2b0001-4001-4001-8001-000000000001.xml")
	if !strings.HasPrefix(o.MessageID, XTAMessageIDPrefix) {
		t.Errorf("MessageID %q lacks the prefix %s", o.MessageID, XTAMessageIDPrefix)
	}
	if len(o.Attachments) != 1 || o.Attachments[0].ContentType != "application/pdf" || o.Attachments[0].Filename != "lageplan.pdf" {
		t.Errorf("attachments: %+v", o.Attachments)
	}
	raw, err := readAll(o.Message.Part)
	if err != nil || string(raw) != xtaDoc {
		t.Errorf("the message is not the document as given: %v", err)
	}
}

func TestBuildXTAOfferBreakages(t *testing.T) {
	good, err := BuildXTAOffer(xtaMsg(XTABreakNone))
	if err != nil {
		t.Fatal(err)
	}
	o, err := BuildXTAOffer(xtaMsg(BreakXTAPayloadInvalid))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := readAll(o.Message.Part)
	if !strings.Contains(string(raw), "<"+UnexpectedElement) || o.MessageType.Code != good.MessageType.Code {
		t.Errorf("invalid payload: %s (type %s)", raw, o.MessageType.Code)
	}
	if o.NachrichtenUUID != good.NachrichtenUUID {
		t.Errorf("the invalid payload lost its nachrichtenUUID: %q", o.NachrichtenUUID)
	}

	o, err = BuildXTAOffer(xtaMsg(BreakXTAOtherReader))
	if err != nil || o.Reader.Identifier != XTAOtherReader {
		t.Errorf("other reader: %q, %v", o.Reader.Identifier, err)
	}
	m := xtaMsg(BreakXTAOtherReader)
	m.OtherReader = m.Reader
	if _, err := BuildXTAOffer(m); err == nil {
		t.Error("an other reader equal to the SUT's is accepted")
	}

	m = xtaMsg(BreakXTAReuseMessageID)
	if _, err := BuildXTAOffer(m); err == nil {
		t.Error("reuse without a MessageID is accepted")
	}
	m.ReuseMessageID = good.MessageID
	if o, err = BuildXTAOffer(m); err != nil || o.MessageID != good.MessageID {
		t.Errorf("reuse: %q, %v", o.MessageID, err)
	}

	o, err = BuildXTAOffer(xtaMsg(BreakXTASameNachrichtenUUID))
	if err != nil || o.MessageID == good.MessageID || o.NachrichtenUUID != good.NachrichtenUUID {
		t.Errorf("same nachrichtenUUID: %q %q, %v", o.MessageID, o.NachrichtenUUID, err)
	}

	o, err = BuildXTAOffer(xtaMsg(BreakXTAUnsupportedMessageType))
	if err != nil || o.MessageType.Code != XTAUnsupportedMessageType || o.PayloadSchema != good.PayloadSchema {
		t.Errorf("unsupported type: %+v, %v", o.MessageType, err)
	}
	for _, b := range XTABreakages {
		if strings.HasPrefix(b.String(), "XTABreakage(") {
			t.Errorf("breakage %d has no name", b)
		}
	}
}

func TestXoevInfoRejectsNonXML(t *testing.T) {
	if _, err := xoevInfo([]byte("not xml")); err == nil {
		t.Error("non-XML accepted")
	}
}

func TestXTAOfferMetaData(t *testing.T) {
	o, err := BuildXTAOffer(xtaMsg(XTABreakNone))
	if err != nil {
		t.Fatal(err)
	}
	md := o.MetaData()
	if md.Destinations.Reader.Identifier.Value != "bab:010010000000" || md.Destinations.Reader.Identifier.Type != "xoev" ||
		md.Originators.Author.Identifier.Value != XTADefaultAuthor || md.MsgIdentification.MessageID != o.MessageID {
		t.Errorf("parties and MessageID: %+v", md)
	}
	q := md.Qualifier
	if q.Service != XTAServiceXBau23 || q.BusinessScenario.Undefined != "XBAU_DATA" || q.BusinessScenario.Defined != nil ||
		q.MessageType.Code.Code != "baugenehmigung.antrag.0200" || q.MessageType.PayloadSchema != "http://www.xleitstelle.de/xbau/2/3/1" ||
		q.MessageType.Code.ListURI != XTAMessageTypeListURI || q.MessageType.Code.ListVersionID != "1.0" {
		t.Errorf("qualifier: %+v", q)
	}
	if want := int64(len(xtaDoc) + len("%PDF-1.4")); md.MsgSize != want {
		t.Errorf("MsgSize %d, want %d", md.MsgSize, want)
	}
	doc, err := xml.Marshal(md)
	if err != nil {
		t.Fatalf("marshalling: %v", err)
	}
	xsdtest.RequireValid(t, "the offer's MessageMetaData", doc)
}
