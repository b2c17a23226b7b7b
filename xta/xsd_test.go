package xta_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/konform/konform/soap"
	"github.com/konform/konform/xta"
	"github.com/konform/konform/xta/xsdtest"
)

func meta(id string) *xta.MessageMetaData {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC).Format(xta.TimeFormat)
	return &xta.MessageMetaData{
		TestMsg:            true,
		DeliveryAttributes: xta.DeliveryAttributes{Origin: now, Delivery: now, ObsoleteAfter: "2027-01-01", ServiceQuality: "normal"},
		Originators: xta.Originators{
			Author: xta.Party{Identifier: xta.PartyIdentifier{Value: "bab:010020000000", Type: xta.IdentifierTypeXoev, Name: "Bauamt", Category: "Bauaufsicht"}},
			Sender: &xta.Party{Identifier: xta.PartyIdentifier{Value: "node:1", Type: xta.IdentifierTypeXoev}},
		},
		Destinations: xta.Destinations{
			Reader:            xta.NewParty(xta.IdentifierTypeXoev, "bab:010010000000"),
			OtherDestinations: &xta.OtherDestinations{OtherReaders: []xta.PartyIdentifier{{Value: "x", Type: "xoev"}}},
		},
		MsgIdentification: xta.MsgIdentification{MessageID: id, InReplyTo: []string{"urn:x:1"}, ProcessRef: &xta.ProcessRef{Requester: &xta.ProcessIdentifier{Value: "AZ-1", ProccesName: "antrag"}}},
		Qualifier: xta.Qualifier{
			Subject:          "Bauantrag",
			Service:          "http://www.xleitstelle.de/xbau/2/3",
			BusinessScenario: xta.BusinessScenario{Defined: &xta.Code{Code: "XBAU_DATA", ListURI: "urn:de:dataport:codeliste:business.scenario", ListVersionID: "1"}},
			MessageType:      xta.MessageType{Code: xta.Code{Code: "baugenehmigung.antrag.0200", Name: "Antrag", ListURI: "urn:de:payloadschema:elementname", ListVersionID: "1.0"}, PayloadSchema: "http://www.xleitstelle.de/xbau/2/3"},
		},
		MessageProperties: &xta.MessageProperties{Property: []xta.Property{{Key: xta.Code{Code: "k", ListURI: "urn:k", ListVersionID: "1"}, Value: "v"}}},
		MsgSize:           1234,
	}
}

func readBack(t *testing.T, o *soap.Outgoing) *soap.Message {
	t.Helper()
	b, err := o.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	m, err := soap.Read(o.ContentType(), bytes.NewReader(b), soap.ReadOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("reading back: %v\n%s", err, b)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

const to = "https://xta.test" + xta.PathMsgBox

func TestRequestsValidate(t *testing.T) {
	yes := true
	author := xta.NewParty(xta.IdentifierTypeXoev, "bab:010010000000")
	container := &xta.GenericContentContainer{ContentContainer: &xta.ContentContainer{
		Message:    xta.Content{ContentType: "application/xml", Filename: "antrag.xml", Encoding: "UTF-8", Size: 5, Include: soap.NewInclude("m@x")},
		Attachment: []xta.Content{{ContentType: "application/pdf", Filename: "plan.pdf", Inline: "JVBERi0="}},
	}}
	reqs := []*xta.Request{
		{Op: xta.OpCheckAccountActive, Author: &author},
		{Op: xta.OpCreateMessageID, Author: &author},
		{Op: xta.OpGetTransportReport, Body: xta.MessageID{Value: "urn:de:xta:messageid:1"}},
		{Op: xta.OpLookupService, Body: xta.LookupServiceRequest{LookupServiceRequestList: []xta.LookupServiceRequestItem{{LookupService: xta.LookupService{Reader: author, ServiceType: "http://www.xleitstelle.de/xbau/2/3"}}}}},
		{Op: xta.OpGetStatusList, Author: &author, Body: xta.MsgBoxStatusListRequest{MaxListItems: 50, ListForm: xta.ListFormMessageMetaData}},
		{Op: xta.OpGetStatusList, Body: xta.MsgBoxStatusListRequest{MsgSelector: &xta.MsgSelector{NewEntry: &yes, MsgBoxEntryTimeFrom: "2026-01-01T00:00:00Z"}}},
		{Op: xta.OpGetMessage, Body: xta.MsgBoxFetchRequest{MsgSelector: &xta.MsgSelector{MessageID: []string{"urn:de:xta:messageid:1"}}}},
		{Op: xta.OpGetNextStatusList, Body: xta.MsgBoxGetNextRequest{MsgBoxRequestID: "urn:r:1", LastMsgReceived: []string{"urn:de:xta:messageid:1"}}},
		{Op: xta.OpGetNextMessage, Body: xta.MsgBoxGetNextRequest{MsgBoxRequestID: "urn:r:1"}},
		{Op: xta.OpClose, Body: xta.MsgBoxCloseRequest{MsgBoxRequestID: "urn:r:1", LastMsgReceived: []string{"urn:de:xta:messageid:1"}}},
		{Op: xta.OpSendMessage, MetaData: meta("urn:de:xta:messageid:2"), Body: container, Attachments: []soap.Attachment{{ContentID: "m@x", ContentType: "application/xml", Body: strings.NewReader("<a/>")}}},
	}
	for _, r := range reqs {
		r.To = to
		o, err := r.Outgoing()
		if err != nil {
			t.Fatalf("%s: %v", r.Op.Name, err)
		}
		m := readBack(t, o)
		if m.Action != r.Op.Action || m.Addressing.Action != r.Op.Action || m.Addressing.To != to || m.Addressing.MessageID == "" || !m.MTOM {
			t.Errorf("%s: action %q wsa %+v mtom %v", r.Op.Name, m.Action, m.Addressing, m.MTOM)
		}
		xsdtest.RequireValidMessage(t, r.Op.Name+" request", m)
	}
}

func TestResponsesValidate(t *testing.T) {
	yes := true
	md := meta("urn:de:xta:messageid:1")
	list := &xta.MsgStatusList{MessageMetaData: []xta.MessageMetaData{*md, *meta("urn:de:xta:messageid:3")}}
	attrs := &xta.MsgStatusList{MsgAttributes: []xta.MsgAttributes{{MessageID: "urn:de:xta:messageid:1", TypeOfBusinessScenario: "urn:bs", MsgSize: 3, DeliveryTime: "2026-12-02T10:00:00Z"}}}
	container := &xta.GenericContentContainer{ContentContainer: &xta.ContentContainer{
		Message: xta.Content{ContentType: "application/xml", Filename: "antrag.xml", Include: soap.NewInclude("m")},
	}}
	resps := []*xta.Response{
		{Op: xta.OpCheckAccountActive},
		{Op: xta.OpCreateMessageID, Body: xta.MessageID{Value: xta.NewXTAMessageID()}},
		{Op: xta.OpGetTransportReport, Body: xta.TransportReport{MessageMetaData: *md, ReportTime: "2026-12-02T10:00:00Z", XTAServerIdentity: "konform-mock",
			MessageStatus: xta.MessageStatus{Status: xta.StatusGreen, InfoList: &xta.RecordList{Info: []xta.Record{{Timestamp: "2026-12-02T10:00:00Z", Code: xta.Code{Code: "1", ListURI: "urn:de:xta:codeliste:record.type", ListVersionID: "1.0"}, Reason: "zugestellt"}}}}}},
		{Op: xta.OpLookupService, Body: xta.LookupServiceResponse{LookupServiceResultList: xta.LookupServiceList{LookupServiceResult: []xta.LookupServiceResult{{Reader: md.Destinations.Reader, ServiceType: "urn:s", IsServiceAvailableValue: xta.IsServiceAvailableValue{ServiceIsAvailable: &yes}}}}}},
		{Op: xta.OpGetStatusList, Headers: []any{xta.Pending("urn:r:1", 3)}, Body: list},
		{Op: xta.OpGetStatusList, Headers: []any{xta.NoMessage("urn:r:2", xta.ReasonNoMatch)}, Body: &xta.MsgStatusList{}},
		{Op: xta.OpGetNextStatusList, Headers: []any{xta.Pending("urn:r:1", 0)}, Body: attrs},
		{Op: xta.OpGetNextStatusList, Headers: []any{xta.NoMessage("urn:r:9", xta.ReasonRequestIDInvalid)}, Body: &xta.MsgStatusList{}},
		{Op: xta.OpGetMessage, Headers: []any{md, xta.Pending("urn:r:3", 0)}, Body: container, Attachments: []soap.Attachment{{ContentID: "m", Body: strings.NewReader("<antrag/>")}}},
		{Op: xta.OpGetNextMessage, Headers: []any{md, xta.Pending("urn:r:3", 0)}, Body: container, Attachments: []soap.Attachment{{ContentID: "m", Body: strings.NewReader("<antrag/>")}}},
		{Op: xta.OpClose},
		{Op: xta.OpSendMessage},
	}
	for _, r := range resps {
		r.RelatesTo = "urn:uuid:req"
		o, err := r.Outgoing()
		if err != nil {
			t.Fatalf("%s: %v", r.Op.Name, err)
		}
		m := readBack(t, o)
		if m.Addressing.Action != r.Op.Action || m.Addressing.RelatesTo != "urn:uuid:req" || !m.MTOM {
			t.Errorf("%s: %+v", r.Op.Name, m.Addressing)
		}
		xsdtest.RequireValidMessage(t, r.Op.Name+" response", m)
	}
}

func TestFaultsValidate(t *testing.T) {
	for code := range map[string]bool{"9010": true, "9012": true, "9024": true, "9030": true, "9070": true, "9050": true, "9060": true, "9080": true, "9100": true} {
		e := xta.NewException(xta.CodeException(code), code)
		o, err := xta.FaultOutgoing(xta.ActionGetMessage, "urn:uuid:req", e.Fault(""))
		if err != nil {
			t.Fatal(err)
		}
		m := readBack(t, o)
		xsdtest.RequireValidMessage(t, "fault "+code, m)
		ferr := xta.FaultError(m)
		if !xta.IsException(ferr, e.Kind(), code) {
			t.Errorf("%s: %v", code, ferr)
		}
	}
	tech := xta.NewException(xta.ExcTechnicalProblem, xta.CodeInternalError).Fault("")
	if tech.Code != soap.CodeReceiver {
		t.Errorf("technical problem fault code %s", tech.Code)
	}
	// A WS-Addressing fault carries no XTA exception.
	wsa := &soap.Fault{Code: soap.CodeSender, Subcode: xml.Name{Space: soap.NSWSA, Local: "MessageAddressingHeaderRequired"}, Reason: "wsa:To is required"}
	o, _ := xta.FaultOutgoing(soap.WSAFaultAction, "", wsa)
	m := readBack(t, o)
	xsdtest.RequireValidMessage(t, "wsa fault", m)
	var xe *xta.Error
	if err := xta.FaultError(m); err == nil || xta.IsException(err, xta.ExcPermissionDenied, "") {
		t.Errorf("wsa fault: %v", err)
	} else if !asError(err, &xe) || xe.Exception != nil {
		t.Errorf("wsa fault exception %+v", xe)
	}
}

func asError(err error, target **xta.Error) bool {
	e, ok := err.(*xta.Error)
	*target = e
	return ok
}

// The validation must bite: a wrong element order and a missing required attribute fail.
func TestValidationBites(t *testing.T) {
	bad := map[string]string{
		"order":              `<MsgBoxResponse xmlns="http://www.osci.eu/ws/2008/05/transport"><ItemsPending>1</ItemsPending><NoMessageAvailable reason="x"/></MsgBoxResponse>`,
		"missing attr":       `<MsgBoxCloseRequest xmlns="http://www.osci.eu/ws/2008/05/transport"/>`,
		"qualified code":     `<PermissionDeniedException xmlns="http://xoev.de/transport/xta/211"><errorCode><code>9012</code><name>x</name></errorCode></PermissionDeniedException>`,
		"header in envelope": `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Header><MessageMetaData xmlns="http://www.osci.eu/ws/2014/10/transport"/></e:Header><e:Body/></e:Envelope>`,
		"body in envelope":   `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><MsgBoxCloseRequest xmlns="http://www.osci.eu/ws/2008/05/transport"/></e:Body></e:Envelope>`,
	}
	for name, doc := range bad {
		if errs := xsdtest.Errors(t, []byte(doc)); len(errs) == 0 {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
}

func TestRoundTripStructs(t *testing.T) {
	md := meta("urn:de:xta:messageid:1")
	b, err := xml.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	xsdtest.RequireValid(t, "MessageMetaData", b)
	var back xta.MessageMetaData
	if err := xml.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Qualifier.MessageType.Code.Code != "baugenehmigung.antrag.0200" || back.Qualifier.MessageType.PayloadSchema == "" ||
		back.Destinations.Reader.Identifier.Value != "bab:010010000000" || back.MsgIdentification.MessageID != md.MsgIdentification.MessageID ||
		back.Qualifier.BusinessScenario.Defined.Code != "XBAU_DATA" || !back.TestMsg {
		t.Errorf("round trip lost data: %+v", back)
	}
}
