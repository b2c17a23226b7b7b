package xta

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The verdicts: pure functions of what the SUT did, each returning the failures it finds as
// sentences that name the expectation and the SUT's behaviour ("" or nil when there are none).

const anonymous = "http://www.w3.org/2005/08/addressing/anonymous"

// pagingVerdict (XT-RDR-010): every listing answer with ItemsPending > 0 is followed, before the
// next getStatusList, by a getNextStatusList naming that answer's MsgBoxRequestID. Only rounds
// that are over (a later getStatusList started) are judged.
func pagingVerdict(calls []Call) []string {
	var out []string
	for i, c := range calls {
		if (c.Op != OpGetStatusList && c.Op != OpGetNextStatusList) || !c.answered() || !c.HasItemsPending || c.ItemsPending == 0 {
			continue
		}
		followed, over := false, false
		for _, n := range calls[i+1:] {
			if n.Op == OpGetStatusList {
				over = true
				break
			}
			if n.Op == OpGetNextStatusList && n.RequestID == c.AnswerRequestID {
				followed = true
				break
			}
		}
		if !followed && over {
			out = append(out, fmt.Sprintf("the SUT did not follow ItemsPending=%d of its %s answer (MsgBoxRequestID %q) with getNextStatusList: its next round started without reading on (%d item(s) listed on that page)",
				c.ItemsPending, c.Op, c.AnswerRequestID, len(c.Listed)))
		}
	}
	return out
}

// guessedFetchVerdict (XT-RDR-020): every getMessage names at least one MessageID and each was
// listed to the SUT by an earlier listing answer. calls must start at the run's beginning.
func guessedFetchVerdict(calls []Call) []string {
	listed := map[string]bool{}
	var out []string
	for _, c := range calls {
		switch c.Op {
		case OpGetStatusList, OpGetNextStatusList:
			if c.Status == 200 {
				for _, id := range c.Listed {
					listed[id] = true
				}
			}
		case OpGetMessage:
			if len(c.SelectorIDs) == 0 {
				out = append(out, fmt.Sprintf("getMessage %s named no MessageID: without a MsgSelector it takes what the server picks, not a message a listing answer returned", c))
			}
			for _, id := range c.SelectorIDs {
				if !listed[id] {
					out = append(out, fmt.Sprintf("getMessage %s named MessageID %s, which no getStatusList or getNextStatusList answer had listed to the SUT", c, id))
				}
			}
		}
	}
	return out
}

// closeRequestIDVerdict (XT-RDR-030): every close naming id in LastMsgReceived names the
// MsgBoxRequestID of the latest answer before it that delivered id.
func closeRequestIDVerdict(calls []Call, id string) []string {
	var out []string
	var deliver *Call
	for i, c := range calls {
		switch {
		case (c.Op == OpGetMessage || c.Op == OpGetNextMessage) && c.answered() && c.Delivered == id:
			deliver = &calls[i]
		case c.Op == OpClose && slices.Contains(c.LastMsgReceived, id):
			if deliver == nil {
				out = append(out, fmt.Sprintf("close %s names message %s in LastMsgReceived, which no earlier getMessage answer had delivered to the SUT", c, id))
				continue
			}
			if c.RequestID != deliver.AnswerRequestID {
				out = append(out, fmt.Sprintf("close of %s names MsgBoxRequestID %q, not %q of the answer that delivered it (%s)", id, c.RequestID, deliver.AnswerRequestID, deliver))
			}
		}
	}
	return out
}

// closesOf returns the closes that name id in LastMsgReceived.
func closesOf(calls []Call, id string) []Call {
	var out []Call
	for _, c := range calls {
		if c.Op == OpClose && slices.Contains(c.LastMsgReceived, id) {
			out = append(out, c)
		}
	}
	return out
}

// fetchesOf returns the getMessage calls that name id.
func fetchesOf(calls []Call, id string) []Call {
	var out []Call
	for _, c := range calls {
		if c.Op == OpGetMessage && slices.Contains(c.SelectorIDs, id) {
			out = append(out, c)
		}
	}
	return out
}

// storeOrderVerdict (XT-RDR-030): the SUT's probe showed the record of id before the SUT's
// close of it reached the server. firstSeen is when the kit's probe polling first saw the record
// (zero: not before the message was closed); closeAt when the close arrived at the server, whose
// answer the server held back long enough that a SUT storing only after the close answer shows
// its record well after closeAt + slack, while polling lag stays far below slack.
func storeOrderVerdict(id string, closeAt, firstSeen time.Time, slack time.Duration) string {
	switch {
	case firstSeen.IsZero():
		return fmt.Sprintf("the SUT closed message %s before its probe showed it stored: the close reached the server at %s, the probe showed no record until the message was closed", id, stamp(closeAt))
	case firstSeen.Sub(closeAt) > slack:
		return fmt.Sprintf("the SUT closed message %s before its probe showed it stored: the close reached the server at %s, the probe first showed the record at %s (%s later)",
			id, stamp(closeAt), stamp(firstSeen), firstSeen.Sub(closeAt).Round(time.Millisecond))
	}
	return ""
}

func stamp(t time.Time) string { return t.UTC().Format("15:04:05.000") }

// addressingVerdict (XT-RDR-070): every SOAP request is a SOAP 1.2 envelope whose action equals
// wsa:Action, an operation of XTA.wsdl served at the path called whose input the body is, with
// a wsa:MessageID not used before in the run, a wsa:To naming the port called and no
// non-anonymous wsa:ReplyTo. seen carries the MessageIDs of earlier calls (may be nil).
func addressingVerdict(calls []Call, seen map[string]Call) []string {
	if seen == nil {
		seen = map[string]Call{}
	}
	var out []string
	for _, c := range calls {
		if !c.IsSOAP() {
			continue
		}
		if c.Unparsed != "" && !c.SOAP12 {
			out = append(out, fmt.Sprintf("request %s is not a readable SOAP 1.2 envelope: %s", c, c.Unparsed))
			continue
		}
		if !c.SOAP12 {
			out = append(out, fmt.Sprintf("request %s is not a SOAP 1.2 envelope (Content-Type %q)", c, c.ContentType))
		}
		switch {
		case c.WSA.Action == "":
			out = append(out, fmt.Sprintf("request %s carries no wsa:Action", c))
		case c.Action == "":
			out = append(out, fmt.Sprintf("request %s states no SOAP action (neither an action parameter nor a SOAPAction header); wsa:Action is %q", c, c.WSA.Action))
		case c.Action != c.WSA.Action:
			out = append(out, fmt.Sprintf("request %s states SOAP action %q, but wsa:Action %q", c, c.Action, c.WSA.Action))
		}
		if c.WSA.Action != "" {
			op, ok := operationByAction(c.WSA.Action)
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("request %s: wsa:Action %q is no operation of XTA.wsdl", c, c.WSA.Action))
			case op.port != c.Port:
				out = append(out, fmt.Sprintf("request %s: operation %s belongs to the %s, not the %s it was sent to", c, op.name, op.port, c.Port))
			case !slices.Contains(op.body, c.BodyElement):
				out = append(out, fmt.Sprintf("request %s: its body %s is not the input of %s (%s)", c, bodyName(c.BodyElement), op.name, strings.Join(bodyNames(op.body), " or ")))
			}
		}
		switch prev, dup := seen[c.WSA.MessageID]; {
		case c.WSA.MessageID == "":
			out = append(out, fmt.Sprintf("request %s carries no wsa:MessageID", c))
		case dup:
			out = append(out, fmt.Sprintf("request %s repeats wsa:MessageID %q of request %s", c, c.WSA.MessageID, prev))
		default:
			seen[c.WSA.MessageID] = c
		}
		if c.WSA.To == "" {
			out = append(out, fmt.Sprintf("request %s carries no wsa:To", c))
		} else if p := toPath(c.WSA.To); p != strings.TrimRight(c.Path, "/") {
			out = append(out, fmt.Sprintf("request %s: its wsa:To %q does not address the port called (%s)", c, c.WSA.To, c.Path))
		}
		if c.WSA.ReplyTo != "" && c.WSA.ReplyTo != anonymous {
			out = append(out, fmt.Sprintf("request %s: wsa:ReplyTo %q is not anonymous, as the policy's AnonymousResponses demands", c, c.WSA.ReplyTo))
		}
	}
	return out
}

func toPath(to string) string {
	u, err := url.Parse(to)
	if err != nil {
		return to
	}
	return strings.TrimRight(u.Path, "/")
}

func bodyName(local string) string {
	if local == "" {
		return "(empty)"
	}
	return local
}

func bodyNames(locals []string) []string {
	out := make([]string, len(locals))
	for i, l := range locals {
		out[i] = bodyName(l)
	}
	return out
}

// mtomVerdict (XT-RDR-071): every SOAP request is multipart/related with type application/xop+xml.
func mtomVerdict(calls []Call) []string {
	var out []string
	for _, c := range calls {
		if c.IsSOAP() && !c.XOP {
			out = append(out, fmt.Sprintf("request %s is not MTOM/XOP: Content-Type %q", c, c.ContentType))
		}
	}
	return out
}

// Handshake is a TLS handshake at the XTA server that failed (a client that refused the
// server's certificate, or presented one the server refused).
type Handshake struct {
	Time  time.Time
	Error string
}

// certVerdict (XT-RDR-080): every SOAP request came over TLS with the client certificate want
// (its SHA-256 fingerprint, hex); when want is "", with the certificate the server knows as the
// account of reader (when reader is not "").
func certVerdict(calls []Call, want, reader string) []string {
	var out []string
	for _, c := range calls {
		switch {
		case !c.IsSOAP():
		case !c.TLS:
			out = append(out, fmt.Sprintf("request %s came over plain HTTP, without a client certificate", c))
		case c.Op == "":
			// The server refused it (WS-Addressing, SOAP version) before it read the certificate.
		case c.ClientCert == "":
			out = append(out, fmt.Sprintf("request %s came without a client certificate", c))
		case want != "" && !strings.EqualFold(c.ClientCert, want):
			out = append(out, fmt.Sprintf("request %s presented client certificate %s, not the configured one %s", c, short(c.ClientCert), short(want)))
		case want == "" && reader != "" && c.Account != reader:
			out = append(out, fmt.Sprintf("request %s presented client certificate %s, not the one configured for reader %s (the server knows it as account %q)", c, short(c.ClientCert), reader, c.Account))
		}
	}
	return out
}

func short(fp string) string {
	if len(fp) > 16 {
		return "sha256:" + fp[:16] + "…"
	}
	return "sha256:" + fp
}

// trustVerdict (XT-RDR-090): no SOAP request reached the server after the switch.
func trustVerdict(after []Call) string {
	var soap []Call
	for _, c := range after {
		if c.IsSOAP() {
			soap = append(soap, c)
		}
	}
	if len(soap) == 0 {
		return ""
	}
	return fmt.Sprintf("after the server certificate was switched to one of another CA, the SUT sent %d SOAP request%s (first: %s): it trusts a server its CA did not certify",
		len(soap), plural(len(soap)), soap[0])
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// cadenceVerdict (XT-RDR-100): after every NoMessageAvailable answer the SUT started a
// getStatusList within limit; a pending wait counts against it once now passed the limit.
func cadenceVerdict(calls []Call, limit time.Duration, now time.Time) []string {
	var out []string
	for i, c := range calls {
		if c.NoMessage == "" || c.Status != 200 {
			continue
		}
		var next *Call
		for j := i + 1; j < len(calls); j++ {
			if calls[j].Op == OpGetStatusList {
				next = &calls[j]
				break
			}
		}
		reason := strings.TrimPrefix(c.NoMessage, ReasonPrefix)
		switch {
		case next == nil && now.Sub(c.Time) > limit:
			out = append(out, fmt.Sprintf("after the NoMessageAvailable (%s) answer at %s the SUT started no getStatusList for %s (limit %s)",
				reason, stamp(c.Time), now.Sub(c.Time).Round(time.Second), limit))
		case next != nil && next.Time.Sub(c.Time) > limit:
			out = append(out, fmt.Sprintf("after the NoMessageAvailable (%s) answer at %s the SUT started no getStatusList for %s (limit %s; next round %s)",
				reason, stamp(c.Time), next.Time.Sub(c.Time).Round(time.Second), limit, next))
		}
	}
	return out
}

// sameRoundRetryVerdict (XT-RDR-111): after a PermissionDenied or InvalidMessageID answer to a
// getMessage naming id, no getMessage naming id follows before the next getStatusList.
func sameRoundRetryVerdict(calls []Call, id string) []string {
	var out []string
	for i, c := range calls {
		if c.Op != OpGetMessage || !slices.Contains(c.SelectorIDs, id) || (c.Fault != FaultPermission && c.Fault != FaultInvalidID) {
			continue
		}
		for _, n := range calls[i+1:] {
			if n.Op == OpGetStatusList {
				break
			}
			if n.Op == OpGetMessage && slices.Contains(n.SelectorIDs, id) {
				out = append(out, fmt.Sprintf("after %s on getMessage(%s) %s the SUT called getMessage(%s) again %s later in the same poll round (%s, no getStatusList between)",
					faultName(c.Fault), id, c, id, n.Time.Sub(c.Time).Round(time.Millisecond), n))
				break
			}
		}
	}
	return out
}

func faultName(kind string) string {
	switch kind {
	case FaultPermission:
		return "PermissionDenied"
	case FaultInvalidID:
		return "InvalidMessageID"
	case FaultTechnical:
		return "XTAWSTechnicalProblem"
	}
	return kind
}

// Rückweisung (XBau 2.3.1, xbau-kernmodul-nachrichten.xsd).
const (
	RueckweisungElement   = "prozessnachrichten.rueckweisung.G2G.1100"
	RueckweisungNamespace = "http://www.xleitstelle.de/xbau/kernmodul/1/2"
)

// Sent is one message the SUT sent over sendMessage, as the mock recorded it.
type Sent struct {
	Seq             int64
	Time            time.Time
	MessageID       string
	Author, Reader  string
	MessageTypeCode string
	// Message is the ContentContainer's Message (the XÖV document).
	Message []byte
}

// rueckweisungVerdict (XT-RDR-120): among the messages sent, a Rückweisung 1100 to the author
// that names the rejected nachrichtenUUID in rueckweisungDaten/idNachricht.
func rueckweisungVerdict(sent []Sent, messageID, author, nachrichtenUUID string) string {
	var found []Sent
	for _, s := range sent {
		if root, _ := rootOf(s.Message); root == RueckweisungElement || s.MessageTypeCode == RueckweisungElement {
			found = append(found, s)
		}
	}
	if len(found) == 0 {
		return fmt.Sprintf("the SUT sent no %s to the author %s for the schema-invalid message %s (it sent %d other message%s over sendMessage)",
			RueckweisungElement, author, messageID, len(sent), plural(len(sent)))
	}
	var problems []string
	for _, s := range found {
		var p []string
		if s.Reader != author {
			p = append(p, fmt.Sprintf("is addressed to reader %q, not the author %q", s.Reader, author))
		}
		if ids := rejectedUUIDs(s.Message); !slices.Contains(ids, nachrichtenUUID) {
			p = append(p, fmt.Sprintf("names %v in rueckweisungDaten/idNachricht/nachrichtenUUID, not the rejected message's %s", ids, nachrichtenUUID))
		}
		if len(p) == 0 {
			return ""
		}
		problems = append(problems, fmt.Sprintf("the %s sent as %s %s", RueckweisungElement, or(s.MessageID, "(no MessageID)"), strings.Join(p, " and ")))
	}
	return fmt.Sprintf("the SUT sent no %s to the author %s that names the schema-invalid message %s: %s", RueckweisungElement, author, messageID, strings.Join(problems, "; "))
}

// rootOf returns the local name and namespace of an XML document's root element.
func rootOf(doc []byte) (local, space string) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local, se.Name.Space
		}
	}
}

// rejectedUUIDs returns the nachrichtenUUIDs below rueckweisungDaten/idNachricht.
func rejectedUUIDs(doc []byte) []string {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var path []string
	var out []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) || err != nil {
			return out
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			if n := len(path); n >= 3 && path[n-1] == "nachrichtenUUID" && path[n-2] == "idNachricht" && path[n-3] == "rueckweisungDaten" {
				out = append(out, strings.TrimSpace(string(t)))
			}
		}
	}
}
