package xta

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/konform/konform/catalogue"
)

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// seqCalls numbers the calls and spaces them a second apart.
func seqCalls(cs ...Call) []Call {
	for i := range cs {
		cs[i].Seq = int64(i + 1)
		if cs[i].Time.IsZero() {
			cs[i].Time = t0.Add(time.Duration(i) * time.Second)
		}
		if cs[i].Status == 0 {
			cs[i].Status = 200
		}
		if cs[i].Port == "" {
			cs[i].Port, cs[i].Path = PortMsgBox, PathMsgBox
		}
	}
	return cs
}

// because returns the declared cause of the defect at the check.
func because(t *testing.T, id, defect string) *regexp.Regexp {
	t.Helper()
	r, ok := catalogue.Builtin().Lookup(id)
	if !ok {
		t.Fatalf("%s is not in the catalogue", id)
	}
	k, ok := r.Kill(defect)
	if !ok {
		t.Fatalf("%s does not declare %s", id, defect)
	}
	return regexp.MustCompile(k.Because)
}

func expectCause(t *testing.T, id, defect string, failures []string) {
	t.Helper()
	if len(failures) == 0 {
		t.Fatalf("%s: no failure for %s", id, defect)
	}
	msg := strings.Join(failures, "\n")
	if re := because(t, id, defect); !re.MatchString(msg) {
		t.Errorf("%s: failure for %s does not match its cause %q:\n%s", id, defect, re, msg)
	}
}

func expectNone(t *testing.T, what string, failures []string) {
	t.Helper()
	if len(failures) > 0 {
		t.Errorf("%s: unexpected failures:\n%s", what, strings.Join(failures, "\n"))
	}
}

func list(op string, ids []string, pending int, reqID string) Call {
	return Call{Op: op, Listed: ids, ItemsPending: pending, HasItemsPending: true, AnswerRequestID: reqID}
}

func TestPagingVerdict(t *testing.T) {
	good := seqCalls(
		list(OpGetStatusList, []string{"a", "b"}, 3, "r1"),
		Call{Op: OpGetMessage, SelectorIDs: []string{"a"}},
		Call{Op: OpGetNextStatusList, RequestID: "r1", Listed: []string{"c", "d"}, ItemsPending: 1, HasItemsPending: true, AnswerRequestID: "r2"},
		Call{Op: OpGetNextStatusList, RequestID: "r2", Listed: []string{"e"}, HasItemsPending: true, AnswerRequestID: "r3"},
		Call{Op: OpGetStatusList, NoMessage: ReasonNoMatch, AnswerRequestID: "r4"},
	)
	expectNone(t, "paging to the end", pagingVerdict(good))

	firstOnly := seqCalls(
		list(OpGetStatusList, []string{"a", "b"}, 3, "r1"),
		Call{Op: OpGetMessage, SelectorIDs: []string{"a"}},
		list(OpGetStatusList, []string{"c", "d"}, 1, "r2"),
		list(OpGetStatusList, []string{"e"}, 0, "r3"),
	)
	f := pagingVerdict(firstOnly)
	if len(f) != 2 {
		t.Errorf("want 2 unfollowed pages, got %v", f)
	}
	expectCause(t, "XT-RDR-010", "xta-first-page-only", f)

	wrongID := seqCalls(
		list(OpGetStatusList, []string{"a", "b"}, 3, "r1"),
		Call{Op: OpGetNextStatusList, RequestID: "1"},
		Call{Op: OpGetStatusList},
	)
	if f := pagingVerdict(wrongID); len(f) != 1 {
		t.Errorf("a getNextStatusList with another MsgBoxRequestID is accepted: %v", f)
	}
	// A round still running is not judged.
	running := seqCalls(list(OpGetStatusList, []string{"a", "b"}, 3, "r1"), Call{Op: OpGetMessage, SelectorIDs: []string{"a"}})
	expectNone(t, "running round", pagingVerdict(running))
}

func TestGuessedFetchVerdict(t *testing.T) {
	good := seqCalls(
		list(OpGetStatusList, []string{"a", "b"}, 1, "r1"),
		Call{Op: OpGetMessage, SelectorIDs: []string{"a"}},
		Call{Op: OpGetNextStatusList, RequestID: "r1", Listed: []string{"c"}},
		Call{Op: OpGetMessage, SelectorIDs: []string{"c"}},
		Call{Op: OpGetMessage, SelectorIDs: []string{"b"}},
	)
	expectNone(t, "listed fetches", guessedFetchVerdict(good))

	guessed := seqCalls(
		Call{Op: OpGetMessage, SelectorIDs: []string{"x"}},
		list(OpGetStatusList, []string{"x"}, 0, "r1"),
	)
	expectCause(t, "XT-RDR-020", "xta-fetch-guessed-id", guessedFetchVerdict(guessed))
	if f := guessedFetchVerdict(seqCalls(list(OpGetStatusList, []string{"a"}, 0, "r"), Call{Op: OpGetMessage})); len(f) != 1 || !strings.Contains(f[0], "named no MessageID") {
		t.Errorf("a getMessage without a MessageID: %v", f)
	}
}

func TestCloseRequestIDVerdict(t *testing.T) {
	good := seqCalls(
		list(OpGetStatusList, []string{"m"}, 0, "r1"),
		Call{Op: OpGetMessage, SelectorIDs: []string{"m"}, Delivered: "m", AnswerRequestID: "r2"},
		Call{Op: OpClose, RequestID: "r2", LastMsgReceived: []string{"m"}},
	)
	expectNone(t, "close with the delivering answer's ID", closeRequestIDVerdict(good, "m"))

	constant := seqCalls(
		Call{Op: OpGetMessage, SelectorIDs: []string{"m"}, Delivered: "m", AnswerRequestID: "urn:uuid:abc"},
		Call{Op: OpClose, RequestID: "1", LastMsgReceived: []string{"m"}},
	)
	expectCause(t, "XT-RDR-030", "xta-close-constant-request-id", closeRequestIDVerdict(constant, "m"))

	// A second delivery (after a failed close) sets the ID the next close must name.
	refetch := seqCalls(
		Call{Op: OpGetMessage, SelectorIDs: []string{"m"}, Delivered: "m", AnswerRequestID: "r1"},
		Call{Op: OpClose, RequestID: "r1", LastMsgReceived: []string{"m"}, Status: 500, Fault: FaultTechnical},
		Call{Op: OpGetMessage, SelectorIDs: []string{"m"}, Delivered: "m", AnswerRequestID: "r2"},
		Call{Op: OpClose, RequestID: "r2", LastMsgReceived: []string{"m"}},
	)
	expectNone(t, "refetch", closeRequestIDVerdict(refetch, "m"))
	if f := closeRequestIDVerdict(seqCalls(Call{Op: OpClose, RequestID: "1", LastMsgReceived: []string{"m"}}), "m"); len(f) != 1 {
		t.Errorf("a close of an undelivered message: %v", f)
	}
	if n := len(closesOf(refetch, "m")); n != 2 {
		t.Errorf("closesOf: %d", n)
	}
	if n := len(fetchesOf(refetch, "m")); n != 2 {
		t.Errorf("fetchesOf: %d", n)
	}
}

func TestStoreOrderVerdict(t *testing.T) {
	slack := time.Second
	if v := storeOrderVerdict("m", t0, t0.Add(-time.Millisecond), slack); v != "" {
		t.Errorf("stored before the close: %s", v)
	}
	if v := storeOrderVerdict("m", t0, t0.Add(80*time.Millisecond), slack); v != "" {
		t.Errorf("seen within the polling lag: %s", v)
	}
	expectCause(t, "XT-RDR-030", "xta-close-before-store", []string{storeOrderVerdict("m", t0, time.Time{}, slack)})
	expectCause(t, "XT-RDR-030", "xta-close-before-store", []string{storeOrderVerdict("m", t0, t0.Add(2*time.Second), slack)})
}

func soapCall(op string, mutate func(*Call)) Call {
	o, _ := operationByName(op)
	path := map[string]string{PortManagement: PathManagement, PortMsgBox: PathMsgBox, PortSend: PathSend}[o.port]
	c := Call{
		Op: op, Port: o.port, Path: path, TLS: true, ClientCert: "abcd", SOAP12: true, XOP: true,
		ContentType: `multipart/related; type="application/xop+xml"; start="<root>"; start-info="application/soap+xml"`,
		Action:      o.action, BodyElement: o.body[0],
		WSA: WSA{Action: o.action, MessageID: "urn:uuid:" + op, To: "https://xta:8443" + path},
	}
	if mutate != nil {
		mutate(&c)
	}
	return c
}

func TestAddressingVerdict(t *testing.T) {
	good := seqCalls(
		soapCall(OpCheckAccountActive, nil),
		soapCall(OpGetStatusList, nil),
		soapCall(OpGetMessage, func(c *Call) { c.WSA.ReplyTo = anonymous }),
		soapCall(OpClose, nil),
		soapCall(OpSendMessage, nil),
	)
	expectNone(t, "good requests", addressingVerdict(good, nil))

	noTo := seqCalls(soapCall(OpGetStatusList, func(c *Call) { c.WSA.To = "" }))
	expectCause(t, "XT-RDR-070", "xta-no-wsa-to", addressingVerdict(noTo, nil))

	bad := seqCalls(
		soapCall(OpGetStatusList, func(c *Call) { c.Action = "" }),
		soapCall(OpGetStatusList, func(c *Call) {
			c.WSA.MessageID = "urn:uuid:" + OpGetStatusList + "-2"
			c.Action = actionMsgBx + "MsgBoxFetchRequest"
		}),
		soapCall(OpGetStatusList, func(c *Call) { c.WSA.MessageID = "urn:uuid:" + OpGetStatusList + "-2" }),
		soapCall(OpClose, func(c *Call) { c.WSA.MessageID = "" }),
		soapCall(OpClose, func(c *Call) { c.WSA.MessageID = "x"; c.WSA.To = "https://xta:8443" + PathManagement }),
		soapCall(OpClose, func(c *Call) { c.WSA.MessageID = "y"; c.WSA.ReplyTo = "https://sut/replies" }),
		soapCall(OpClose, func(c *Call) { c.WSA.MessageID = "z"; c.BodyElement = "MsgBoxFetchRequest" }),
		soapCall(OpCheckAccountActive, func(c *Call) { c.WSA.MessageID = "w"; c.Port, c.Path = PortMsgBox, PathMsgBox; c.WSA.To = PathMsgBox }),
		soapCall(OpClose, func(c *Call) { c.WSA.MessageID = "v"; c.SOAP12 = false; c.ContentType = "text/xml" }),
	)
	f := addressingVerdict(bad, nil)
	for _, want := range []string{"states no SOAP action", "but wsa:Action", "repeats wsa:MessageID", "carries no wsa:MessageID",
		"does not address the port called", "is not anonymous", "is not the input of close", "belongs to the ManagementPort", "is not a SOAP 1.2 envelope"} {
		if !strings.Contains(strings.Join(f, "\n"), want) {
			t.Errorf("no failure %q in:\n%s", want, strings.Join(f, "\n"))
		}
	}
	if strings.Contains(strings.Join(f, "\n"), "carries no wsa:To") {
		t.Errorf("a request with wsa:To is said to have none:\n%s", strings.Join(f, "\n"))
	}
}

func TestMTOMAndCertVerdicts(t *testing.T) {
	good := seqCalls(soapCall(OpGetStatusList, nil), soapCall(OpCheckAccountActive, nil), Call{Path: "/_konform/health"})
	good[2].Port = ""
	expectNone(t, "MTOM", mtomVerdict(good))
	expectNone(t, "certificates", certVerdict(good, "ABCD", ""))

	plain := seqCalls(soapCall(OpGetStatusList, func(c *Call) { c.XOP = false; c.ContentType = `application/soap+xml; action="x"` }))
	expectCause(t, "XT-RDR-071", "xta-plain-soap", mtomVerdict(plain))

	noCert := seqCalls(soapCall(OpCheckAccountActive, func(c *Call) { c.ClientCert = "" }))
	expectCause(t, "XT-RDR-080", "xta-no-cert-on-management", certVerdict(noCert, "abcd", ""))
	expectCause(t, "XT-RDR-080", "xta-no-cert-on-management", certVerdict(noCert, "", "bab:1"))
	refused := seqCalls(soapCall(OpGetStatusList, func(c *Call) { c.ClientCert, c.Op = "", "" }))
	expectNone(t, "a request refused before the certificate was read", certVerdict(refused, "abcd", ""))
	if f := certVerdict(seqCalls(soapCall(OpGetStatusList, func(c *Call) { c.ClientCert = "ffff" })), "abcd", ""); len(f) != 1 || !strings.Contains(f[0], "not the configured one") {
		t.Errorf("another certificate: %v", f)
	}
	own := seqCalls(soapCall(OpGetStatusList, func(c *Call) { c.Account = "bab:1" }))
	expectNone(t, "the reader's own account", certVerdict(own, "", "bab:1"))
	if f := certVerdict(own, "", "bab:2"); len(f) != 1 || !strings.Contains(f[0], `knows it as account "bab:1"`) {
		t.Errorf("another account: %v", f)
	}
}

func TestTrustVerdict(t *testing.T) {
	if v := trustVerdict(nil); v != "" {
		t.Error(v)
	}
	v := trustVerdict(seqCalls(soapCall(OpCheckAccountActive, nil), soapCall(OpGetStatusList, nil)))
	expectCause(t, "XT-RDR-090", "xta-trust-any-server", []string{v})
}

func TestCadenceVerdict(t *testing.T) {
	limit := 12 * time.Second
	calls := seqCalls(
		Call{Op: OpGetStatusList, NoMessage: ReasonNoMatch, Time: t0},
		Call{Op: OpGetStatusList, NoMessage: ReasonNoMatch, Time: t0.Add(5 * time.Second)},
		Call{Op: OpGetNextStatusList, NoMessage: ReasonRequestIDInvalid, Time: t0.Add(6 * time.Second)},
		Call{Op: OpGetStatusList, Time: t0.Add(10 * time.Second)},
	)
	expectNone(t, "steady cadence", cadenceVerdict(calls, limit, t0.Add(11*time.Second)))

	stopped := seqCalls(Call{Op: OpGetStatusList, NoMessage: ReasonNoMatch, Time: t0})
	expectNone(t, "not yet over the limit", cadenceVerdict(stopped, limit, t0.Add(limit)))
	expectCause(t, "XT-RDR-100", "xta-stop-on-no-message", cadenceVerdict(stopped, limit, t0.Add(limit+time.Second)))

	late := seqCalls(
		Call{Op: OpGetNextStatusList, NoMessage: ReasonRequestIDInvalid, Time: t0},
		Call{Op: OpGetStatusList, Time: t0.Add(30 * time.Second)},
	)
	expectCause(t, "XT-RDR-100", "xta-stop-on-no-message", cadenceVerdict(late, limit, t0.Add(31*time.Second)))
}

func TestSameRoundRetryVerdict(t *testing.T) {
	good := seqCalls(
		Call{Op: OpGetStatusList, Listed: []string{"m"}},
		Call{Op: OpGetMessage, SelectorIDs: []string{"m"}, Status: 500, Fault: FaultPermission},
		Call{Op: OpGetStatusList, Listed: []string{"m"}},
		Call{Op: OpGetMessage, SelectorIDs: []string{"m"}},
	)
	expectNone(t, "retry in the next round", sameRoundRetryVerdict(good, "m"))
	retry := seqCalls(
		Call{Op: OpGetStatusList, Listed: []string{"m"}},
		Call{Op: OpGetMessage, SelectorIDs: []string{"urn:de:xta:messageid:konform:1"}, Status: 500, Fault: FaultInvalidID},
		Call{Op: OpGetMessage, SelectorIDs: []string{"urn:de:xta:messageid:konform:1"}},
	)
	expectCause(t, "XT-RDR-111", "xta-retry-permission-denied", sameRoundRetryVerdict(retry, "urn:de:xta:messageid:konform:1"))
	// A technical fault may be retried at once.
	tech := seqCalls(
		Call{Op: OpGetMessage, SelectorIDs: []string{"m"}, Status: 500, Fault: FaultTechnical},
		Call{Op: OpGetMessage, SelectorIDs: []string{"m"}},
	)
	expectNone(t, "technical", sameRoundRetryVerdict(tech, "m"))
}

const rueckweisung = `<?xml version="1.0" encoding="UTF-8"?>
<xbauk:prozessnachrichten.rueckweisung.G2G.1100 xmlns:xbauk="http://www.xleitstelle.de/xbau/kernmodul/1/2">
  <nachrichtenkopf.g2g><identifikation.nachricht><nachrichtenUUID>11111111-1111-4111-8111-111111111111</nachrichtenUUID></identifikation.nachricht></nachrichtenkopf.g2g>
  <rueckweisungDaten>
    <rueckweisungsgrund><grund><code>XYZ</code></grund></rueckweisungsgrund>
    <idNachricht><nachrichtenUUID>5e2b0001-4001-4001-8001-000000000001</nachrichtenUUID></idNachricht>
    <nachricht>PHg+PC94Pg==</nachricht>
  </rueckweisungDaten>
</xbauk:prozessnachrichten.rueckweisung.G2G.1100>`

func TestRueckweisungVerdict(t *testing.T) {
	const uuid, author = "5e2b0001-4001-4001-8001-000000000001", "bpt:099990000001"
	good := []Sent{{MessageID: "s1", Reader: author, Message: []byte(rueckweisung)}}
	if v := rueckweisungVerdict(good, "m", author, uuid); v != "" {
		t.Error(v)
	}
	expectCause(t, "XT-RDR-120", "xta-no-rueckweisung", []string{rueckweisungVerdict(nil, "m", author, uuid)})
	other := []Sent{{MessageID: "s1", Reader: author, Message: []byte(`<a/>`)}}
	expectCause(t, "XT-RDR-120", "xta-no-rueckweisung", []string{rueckweisungVerdict(other, "m", author, uuid)})
	wrong := []Sent{{MessageID: "s1", Reader: "bab:1", Message: []byte(rueckweisung)}}
	if v := rueckweisungVerdict(wrong, "m", author, "another-uuid"); !strings.Contains(v, "not the author") || !strings.Contains(v, "not the rejected message's another-uuid") {
		t.Errorf("wrong reader and UUID: %s", v)
	}
	if got := rejectedUUIDs([]byte(rueckweisung)); len(got) != 1 || got[0] != uuid {
		t.Errorf("rejectedUUIDs: %v", got)
	}
}
