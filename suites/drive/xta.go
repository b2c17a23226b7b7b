package drive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/mocks/sender"
	xtamock "github.com/konform/konform/mocks/xta"
	"github.com/konform/konform/runenv"
)

// The XTA side of driving: a fixture becomes an XTA message the kit puts into the SUT's mailbox
// at the XTA server mock; the waits follow the SUT's getStatusList cadence as the mock recorded
// it, and its probe record of a MessageID.

// ErrNoXTA says the run does not test the XTA transport (runenv.Env.XTA is nil).
var ErrNoXTA = errors.New("the run does not test the XTA transport (no XTA environment)")

// XTA returns the run's XTA environment.
func XTA(env *runenv.Env) (*runenv.XTA, error) {
	if env.XTA == nil {
		return nil, ErrNoXTA
	}
	return env.XTA, nil
}

// XTAMessage turns a fixture, as a message of its own (Message), into an XTA message from the
// run's author to the SUT's reader.
func XTAMessage(x *runenv.XTA, f fixtures.Fixture) sender.XTAMessage {
	f = Message(f)
	mime := f.Manifest.DataMimeType
	if mime == "" {
		mime = "application/xml"
	}
	m := sender.XTAMessage{
		Data: sender.Part{MimeType: mime, Open: func() (io.ReadCloser, error) {
			r, _, err := f.Data()
			return r, err
		}},
		Author: x.AuthorID, Reader: x.ReaderID, OtherReader: x.OtherReaderID,
		Service: XTAServiceOf(x, f.Manifest.MessageType),
	}
	for _, a := range f.Attachments() {
		m.Attachments = append(m.Attachments, sender.Attachment{
			Part:     sender.Part{MimeType: a.MimeType, Open: a.Open, Size: a.Size},
			Filename: a.Filename, Purpose: a.Purpose,
		})
	}
	return m
}

// XTAServiceOf returns the Qualifier.Service the SUT was given for the message type, else the
// sender's default (the XBau 2.3 DVDV service).
func XTAServiceOf(x *runenv.XTA, messageType string) string {
	for _, s := range x.Services {
		for _, mt := range s.MessageTypes {
			if mt.Code == messageType {
				return s.Service
			}
		}
	}
	if len(x.Services) > 0 {
		return x.Services[0].Service
	}
	return sender.XTAServiceXBau23
}

// XTAOffer builds the offer of a fixture with a breakage, after letting change adjust the message.
func XTAOffer(x *runenv.XTA, f fixtures.Fixture, b sender.XTABreakage, change ...func(*sender.XTAMessage)) (sender.XTAOffer, error) {
	m := XTAMessage(x, f)
	m.Break = b
	for _, c := range change {
		c(&m)
	}
	o, err := sender.BuildXTAOffer(m)
	if err != nil {
		return o, fmt.Errorf("building the XTA message of fixture %s: %w", f.Manifest.ID, err)
	}
	return o, nil
}

// XTARecord reads the SUT's probe record of an XTA message (GET /konform/v1/xta/messages/{id});
// found is false while the SUT has not taken it in (404).
func XTARecord(ctx context.Context, env *runenv.Env, messageID string) (rec contract.Record, found bool, err error) {
	path := fmt.Sprintf(contract.ProbeXTAMessagesPathFmt, url.PathEscape(messageID))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(env.SUT.ProbeURL(), "/")+path, nil)
	if err != nil {
		return rec, false, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := probeHTTP.Do(req)
	if err != nil {
		return rec, false, fmt.Errorf("probe %s: SUT unreachable: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	switch {
	case err != nil:
		return rec, false, fmt.Errorf("probe %s: reading answer: %w", path, err)
	case resp.StatusCode == http.StatusNotFound:
		return rec, false, nil
	case resp.StatusCode != http.StatusOK:
		return rec, false, fmt.Errorf("probe %s: status %d: %.300s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		return rec, false, fmt.Errorf("probe %s: answer is not the contract's JSON: %w: %.300s", path, err, body)
	}
	return rec, true, nil
}

var probeHTTP = &http.Client{Timeout: 10 * time.Second}

// AwaitXTARecord polls the probe until done(record) holds or ctx ends; it returns the last
// record seen and whether done held.
func AwaitXTARecord(ctx context.Context, env *runenv.Env, messageID string, done func(contract.Record) bool) (contract.Record, bool, error) {
	var last contract.Record
	var lastErr error
	for {
		rec, found, err := XTARecord(ctx, env, messageID)
		if err == nil && found {
			last = rec
			if done(rec) {
				return rec, true, nil
			}
		}
		if err != nil && ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil && last.SubmissionID == "" {
				return last, false, lastErr
			}
			return last, false, nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Decided says the record is accepted or rejected.
func Decided(r contract.Record) bool {
	return r.Status == contract.StatusAccepted || r.Status == contract.StatusRejected
}

// XTACasesFor returns the SUT's cases whose submissionId is one of the MessageIDs.
func XTACasesFor(ctx context.Context, env *runenv.Env, messageIDs ...string) ([]contract.CaseEntry, error) {
	all, err := Probe(env).Cases(ctx)
	if err != nil {
		return nil, err
	}
	var out []contract.CaseEntry
	for _, c := range all {
		if slices.Contains(messageIDs, c.SubmissionID) {
			out = append(out, c)
		}
	}
	return out, nil
}

// The SOAP action of a recorded request, as far as its headers tell it.

// XTA 2 MsgBox action of getStatusList (XTA.wsdl).
const actionGetStatusList = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxStatusListRequest"

// xtaMsgBoxPath is where the mock serves the MsgBoxPort (docs/sut-contract.md §7).
const xtaMsgBoxPath = "/MB_XTA-WS/XTA210msgBoxPort.svc"

// SOAPActionOf returns the SOAP action a request's headers state: the action parameter of an
// application/soap+xml Content-Type, of a multipart/related Content-Type or of its start-info,
// else the SOAPAction header (quotes removed). "" when the headers state none (it may still be
// in the root part's type, which only the body shows).
func SOAPActionOf(h map[string][]string) string {
	ct := header(h, "Content-Type")
	if mt, params, err := mime.ParseMediaType(ct); err == nil {
		if a := params["action"]; a != "" {
			return a
		}
		if mt == "multipart/related" {
			if _, sp, err := mime.ParseMediaType(params["start-info"]); err == nil && sp["action"] != "" {
				return sp["action"]
			}
		}
	}
	return strings.Trim(strings.TrimSpace(header(h, "SOAPAction")), `"`)
}

func header(h map[string][]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// isXTARound tells whether an exchange starts a listing round of the SUT: an inbound
// getStatusList at the MsgBoxPort that the mock answered (any status but 403 to plain HTTP).
func isXTARound(e recorder.Exchange) bool {
	if e.Direction != "inbound" || e.Method != http.MethodPost {
		return false
	}
	u, err := url.Parse(e.URL)
	if err != nil || strings.TrimRight(u.Path, "/") != xtaMsgBoxPath {
		return false
	}
	return SOAPActionOf(e.ReqHeaders) == actionGetStatusList || strings.Contains(e.Note, "getStatusList") && !strings.Contains(e.Note, "getNextStatusList")
}

// XTA time limits follow the SUT's observed getStatusList cadence, bounded by PollCeiling.

var xtaCadenceCache struct {
	sync.Mutex
	env *runenv.Env
	at  time.Time
	c   time.Duration
}

// XTACadence is the SUT's XTA poll interval as observed: the median gap between the starts of its
// getStatusList rounds so far, within [500ms, PollCeiling]; before three rounds, the interval it
// was given (KONFORM_XTA_POLL_INTERVAL).
func XTACadence(ctx context.Context, env *runenv.Env) time.Duration {
	xtaCadenceCache.Lock()
	defer xtaCadenceCache.Unlock()
	if xtaCadenceCache.env == env && time.Since(xtaCadenceCache.at) < cadenceRefresh {
		return xtaCadenceCache.c
	}
	if starts, err := xtaRoundStarts(ctx, env, 0); err == nil && len(starts) >= 3 {
		xtaCadenceCache.env, xtaCadenceCache.at, xtaCadenceCache.c = env, time.Now(), observedCadence(starts)
		return xtaCadenceCache.c
	}
	return givenXTAInterval(env)
}

func givenXTAInterval(env *runenv.Env) time.Duration {
	c := PollCeiling
	if env.XTA != nil && env.XTA.PollInterval > 0 {
		c = env.XTA.PollInterval
	}
	return max(cadenceFloor, min(c, PollCeiling))
}

// XTADecisionLimit is how long a check waits for the SUT to take one small XTA message:
// DecisionCycles rounds at its observed cadence plus ProcessingAllowance.
func XTADecisionLimit(ctx context.Context, env *runenv.Env) time.Duration {
	return DecisionCycles*XTACadence(ctx, env) + ProcessingAllowance
}

// XTARoundGapLimit is the longest the SUT may leave between a round's answer and its next
// getStatusList: twice the interval it was given (the contract: at least every interval) plus
// 10 s for a round's own work.
func XTARoundGapLimit(env *runenv.Env) time.Duration {
	return 2*givenXTAInterval(env) + 10*time.Second
}

func xtaRoundStarts(ctx context.Context, env *runenv.Env, since int64) ([]time.Time, error) {
	ex, err := XTAExchangeHeads(ctx, env, since)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for _, e := range ex {
		if isXTARound(e) {
			out = append(out, e.Time)
		}
	}
	return out, nil
}

// XTAMark is a point in the XTA server mock's recorded traffic.
type XTAMark int64

// XTAMarkNow returns the point after the latest exchange the XTA server mock recorded.
func XTAMarkNow(ctx context.Context, env *runenv.Env) (XTAMark, error) {
	x, err := XTA(env)
	if err != nil {
		return 0, err
	}
	seq, err := recorder.FetchLast(ctx, xtaHTTP, x.External)
	return XTAMark(seq), err
}

// AwaitXTARounds waits until the SUT has completed n full rounds after m: n+1 getStatusList
// rounds started after m. It fails when the SUT leaves more than XTARoundGapLimit between two
// round starts (or between m and the first), so a SUT that stopped polling is told as such.
func AwaitXTARounds(ctx context.Context, env *runenv.Env, m XTAMark, n int) error {
	gap := XTARoundGapLimit(env)
	from := time.Now()
	for {
		starts, err := xtaRoundStarts(ctx, env, int64(m))
		if err != nil {
			return err
		}
		if len(starts) >= n+1 {
			return nil
		}
		last := from
		if len(starts) > 0 {
			last = starts[len(starts)-1]
		}
		if time.Since(last) > gap {
			return fmt.Errorf("the SUT started %d getStatusList round(s) and then none for %s; %d full rounds were awaited (contract: a round at least every %s)",
				len(starts), time.Since(last).Round(time.Second), n, givenXTAInterval(env))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var xtaHTTP = &http.Client{Timeout: 60 * time.Second}

// XTAExchanges reads the exchanges the XTA server mock recorded after since, with their bodies
// (what the judges of requests parse).
func XTAExchanges(ctx context.Context, env *runenv.Env, since int64) ([]recorder.Exchange, error) {
	x, err := XTA(env)
	if err != nil {
		return nil, err
	}
	return recorder.Fetch(ctx, xtaHTTP, x.External, since)
}

// XTAExchangeHeads reads the exchanges the XTA server mock recorded after since, without bodies.
func XTAExchangeHeads(ctx context.Context, env *runenv.Env, since int64) ([]recorder.Exchange, error) {
	x, err := XTA(env)
	if err != nil {
		return nil, err
	}
	var out []recorder.Exchange
	for {
		u := strings.TrimRight(x.External, "/") + recorder.ExchangesPath + "?since=" + strconv.FormatInt(since, 10) +
			"&limit=" + strconv.Itoa(recorder.FetchPage) + recorder.Heads
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := xtaHTTP.Do(req)
		if err != nil {
			return nil, fmt.Errorf("reading the XTA server mock's exchanges: %w", err)
		}
		var page []recorder.Exchange
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("reading the XTA server mock's exchanges: status %d", resp.StatusCode)
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the XTA server mock's exchanges: %w", err)
		}
		out = append(out, page...)
		if len(page) < recorder.FetchPage {
			return out, nil
		}
		since = page[len(page)-1].Seq
	}
}

// The SUT's mailbox at the XTA server mock, through the mock's Control client.

// XTAMailbox is the SUT's mailbox at the XTA server mock. One per run environment: the page cap
// and the server certificate it sets hold for the checks after it, until set back.
type XTAMailbox struct {
	*xtamock.Control
	x *runenv.XTA

	mu       sync.Mutex
	pageSize int
	foreign  bool
}

var mailboxes struct {
	sync.Mutex
	byEnv map[*runenv.Env]*XTAMailbox
}

// Mailbox returns the run's XTA mailbox.
func Mailbox(env *runenv.Env) (*XTAMailbox, error) {
	x, err := XTA(env)
	if err != nil {
		return nil, err
	}
	mailboxes.Lock()
	defer mailboxes.Unlock()
	if mailboxes.byEnv == nil {
		mailboxes.byEnv = map[*runenv.Env]*XTAMailbox{}
	}
	if m := mailboxes.byEnv[env]; m != nil {
		return m, nil
	}
	m := &XTAMailbox{Control: xtamock.NewControl(x.External), x: x}
	mailboxes.byEnv[env] = m
	return m, nil
}

// PutOffer puts the offer into the SUT's mailbox (also when its metadata name another reader)
// and returns the MessageID the mock filed it under. A MessageID already used is offered again
// when the offer's breakage is BreakXTAReuseMessageID.
func (m *XTAMailbox) PutOffer(ctx context.Context, o sender.XTAOffer) (string, error) {
	md := o.MetaData()
	msg, err := o.Message.Open()
	if err != nil {
		return "", fmt.Errorf("opening the message %s: %w", o.Message.Filename, err)
	}
	defer msg.Close()
	offer := xtamock.Offer{
		OfferHeader: xtamock.OfferHeader{Mailbox: m.x.ReaderID, MessageID: o.MessageID, ReuseMessageID: o.Break == sender.BreakXTAReuseMessageID},
		MetaData:    &md,
		Message:     xtamock.Content{Filename: o.Message.Filename, ContentType: o.Message.ContentType, Body: msg},
	}
	for _, a := range o.Attachments {
		rc, err := a.Open()
		if err != nil {
			return "", fmt.Errorf("opening attachment %s: %w", a.Filename, err)
		}
		defer rc.Close()
		offer.Attachments = append(offer.Attachments, xtamock.Content{Filename: a.Filename, ContentType: a.ContentType, Body: rc})
	}
	return m.Put(ctx, offer)
}

// SetPageCap caps the items of one listing answer (0: no cap).
func (m *XTAMailbox) SetPageCap(ctx context.Context, n int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.configure(ctx, n, m.foreign); err != nil {
		return err
	}
	m.pageSize = n
	return nil
}

// UseForeignCert makes the mock present the server certificate of another CA (true) or the
// run's (false) to new connections.
func (m *XTAMailbox) UseForeignCert(ctx context.Context, foreign bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.configure(ctx, m.pageSize, foreign); err != nil {
		return err
	}
	m.foreign = foreign
	return nil
}

func (m *XTAMailbox) configure(ctx context.Context, pageSize int, foreign bool) error {
	cert, key := m.x.ServerCertPEM, m.x.ServerKeyPEM
	if foreign {
		cert, key = m.x.ForeignCertPEM, m.x.ForeignKeyPEM
		if len(cert) == 0 {
			return errors.New("the run has no server certificate of another CA")
		}
	}
	return m.Configure(ctx, xtamock.Config{ServerCertPEM: string(cert), ServerKeyPEM: string(key), ClientCAPEM: string(m.x.CAPEM), PageSize: pageSize})
}
