package xta

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/mocks/recorder"
	xtawire "github.com/konform/konform/xta"
)

// exchange records a request the way the XTA mock does: its Content-Type and SOAPAction headers,
// the body as text, and the answer.
func exchange(t *testing.T, seq int64, req *xtawire.Request, resp *xtawire.Response) recorder.Exchange {
	t.Helper()
	o, err := req.Outgoing()
	if err != nil {
		t.Fatal(err)
	}
	b, err := o.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	e := recorder.Exchange{
		Seq: seq, Direction: "inbound", Method: http.MethodPost, URL: req.Op.Path, Status: 200, Time: t0,
		ReqHeaders: map[string][]string{"Content-Type": {o.ContentType()}},
		ReqBody:    recorder.BodyOf(o.ContentType(), b),
	}
	if resp != nil {
		ro, err := resp.Outgoing()
		if err != nil {
			t.Fatal(err)
		}
		rb, err := ro.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		e.RespBody = recorder.BodyOf(ro.ContentType(), rb)
	}
	return e
}

func TestCallOfReadsRequestAndAnswer(t *testing.T) {
	to := "https://xta.example:8443" + xtawire.PathMsgBox
	pending := 3
	list := exchange(t, 1,
		&xtawire.Request{Op: xtawire.OpGetStatusList, To: to, Body: &xtawire.MsgBoxStatusListRequest{MaxListItems: 50, ListForm: xtawire.ListFormMessageMetaData}},
		&xtawire.Response{Op: xtawire.OpGetStatusList, RelatesTo: "urn:uuid:x",
			Headers: []any{&xtawire.MsgBoxResponse{MsgBoxRequestID: "urn:req:1", ItemsPending: &pending}},
			Body: &xtawire.MsgStatusList{MessageMetaData: []xtawire.MessageMetaData{
				{MsgIdentification: xtawire.MsgIdentification{MessageID: "m1"}},
				{MsgIdentification: xtawire.MsgIdentification{MessageID: "m2"}},
			}}})
	c := callOf(list)
	if c.Op != OpGetStatusList || c.Port != PortMsgBox || !c.XOP || !c.SOAP12 || c.Unparsed != "" {
		t.Fatalf("getStatusList read as %+v", c)
	}
	if c.Action != xtawire.ActionGetStatusList || c.WSA.Action != c.Action || c.WSA.To != to || c.WSA.MessageID == "" {
		t.Errorf("addressing: action %q, WSA %+v", c.Action, c.WSA)
	}
	if c.AnswerRequestID != "urn:req:1" || !c.HasItemsPending || c.ItemsPending != 3 || len(c.Listed) != 2 || c.Listed[1] != "m2" {
		t.Errorf("answer: %+v", c)
	}
	expectNone(t, "the wire package's own requests", addressingVerdict([]Call{c}, nil))
	expectNone(t, "the wire package's own requests", mtomVerdict([]Call{c}))

	fetch := exchange(t, 2,
		&xtawire.Request{Op: xtawire.OpGetMessage, To: to, Body: &xtawire.MsgBoxFetchRequest{MsgSelector: &xtawire.MsgSelector{MessageID: []string{"m1"}}}},
		&xtawire.Response{Op: xtawire.OpGetMessage, Headers: []any{
			&xtawire.MessageMetaData{MsgIdentification: xtawire.MsgIdentification{MessageID: "m1"}},
			&xtawire.MsgBoxResponse{MsgBoxRequestID: "urn:req:2"},
		}, Body: &xtawire.GenericContentContainer{ContentContainer: &xtawire.ContentContainer{Message: xtawire.Content{ContentType: "application/xml", Inline: "PHg+PC94Pg=="}}}})
	c = callOf(fetch)
	if c.Op != OpGetMessage || len(c.SelectorIDs) != 1 || c.SelectorIDs[0] != "m1" || c.Delivered != "m1" || c.AnswerRequestID != "urn:req:2" {
		t.Errorf("getMessage read as %+v", c)
	}

	cl := exchange(t, 3, &xtawire.Request{Op: xtawire.OpClose, To: to, Body: &xtawire.MsgBoxCloseRequest{MsgBoxRequestID: "urn:req:2", LastMsgReceived: []string{"m1"}}}, nil)
	c = callOf(cl)
	if c.Op != OpClose || c.RequestID != "urn:req:2" || len(c.LastMsgReceived) != 1 || c.LastMsgReceived[0] != "m1" {
		t.Errorf("close read as %+v", c)
	}

	plain := exchange(t, 4, &xtawire.Request{Op: xtawire.OpCheckAccountActive, To: "https://xta.example:8443" + xtawire.PathManagement, Plain: true}, nil)
	c = callOf(plain)
	if c.Op != OpCheckAccountActive || c.XOP || !c.SOAP12 || c.Port != PortManagement {
		t.Errorf("plain checkAccountActive read as %+v", c)
	}
	expectCause(t, "XT-RDR-071", "xta-plain-soap", mtomVerdict([]Call{c}))
}

func TestCallOfReadsFaults(t *testing.T) {
	to := "https://xta.example:8443" + xtawire.PathMsgBox
	e := exchange(t, 1, &xtawire.Request{Op: xtawire.OpGetMessage, To: to, Body: &xtawire.MsgBoxFetchRequest{MsgSelector: &xtawire.MsgSelector{MessageID: []string{"m1"}}}}, nil)
	fo, err := xtawire.FaultOutgoing(xtawire.ActionGetMessage, "urn:uuid:x", xtawire.NewException(xtawire.ExcPermissionDenied, xtawire.CodeServiceNotBooked).Fault("no"))
	if err != nil {
		t.Fatal(err)
	}
	fb, err := fo.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	e.Status, e.RespBody = 500, recorder.BodyOf(fo.ContentType(), fb)
	if c := callOf(e); c.Fault != FaultPermission {
		t.Errorf("PermissionDenied read as fault %q (%s)", c.Fault, c.Unparsed)
	}
	e.RespBody, e.Status, e.Note = nil, 0, "fault: reset"
	if c := callOf(e); c.Fault != FaultReset {
		t.Errorf("a reset read as fault %q", c.Fault)
	}
}

func TestEveryXTAReaderCheckIsRegistered(t *testing.T) {
	src, err := os.ReadFile("xta.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range catalogue.Builtin().Select(func(l []string) bool { return slices.Contains(l, "xta-reader") }) {
		if !strings.Contains(string(src), `check.It("`+id+`"`) {
			t.Errorf("%s has no check.It in xta.go", id)
		}
	}
}
