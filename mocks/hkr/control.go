package hkr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/konform/konform/mocks/control"

	"github.com/konform/konform/mocks/recorder"
	"github.com/shopspring/decimal"
)

// Control API paths.
const (
	healthPath   = control.HealthPath
	faultsPath   = recorder.ControlPrefix + "faults"
	messagesPath = recorder.ControlPrefix + "messages"
	bookingsPath = recorder.ControlPrefix + "bookings"
	paymentsPath = recorder.ControlPrefix + "payments"
	ledgerPath   = recorder.ControlPrefix + "ledger"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		http.Error(w, "request body: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func (s *Server) listFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.faults.list())
}

func (s *Server) addFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if !decodeJSON(w, r, &f) {
		return
	}
	if err := s.faults.add(f); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// clearFaults disarms every fault, or with ?match=X only the faults whose Match is X.
func (s *Server) clearFaults(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("match") {
		match := r.URL.Query().Get("match")
		if strings.TrimSpace(match) == "" {
			http.Error(w, "match: empty; to disarm every fault, leave the parameter out", http.StatusBadRequest)
			return
		}
		s.faults.clearMatching(match)
	} else {
		s.faults.clear()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	var since int64
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			http.Error(w, "since: not an integer: "+v, http.StatusBadRequest)
			return
		}
		since = n
	}
	s.mu.Lock()
	out := []Message{}
	for _, m := range s.messages {
		if m.Seq > since {
			out = append(out, m)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listBookings(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := make([]Booking, 0, len(s.bookOrder))
	for _, n := range s.bookOrder {
		out = append(out, *s.bookings[n])
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listPayments(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := append([]PaymentRecord{}, s.payments...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// Validate names what is wrong with a payment record.
func (p PaymentRecord) Validate() error {
	var probs []string
	if strings.TrimSpace(p.Kassenzeichen) == "" {
		probs = append(probs, "kassenzeichen is empty")
	}
	if strings.TrimSpace(p.TransactionID) == "" {
		probs = append(probs, "transactionId is empty")
	}
	if !p.Amount.IsPositive() {
		probs = append(probs, "amount "+p.Amount.String()+" is not positive")
	} else if p.Amount.Exponent() < -2 && !p.Amount.Equal(p.Amount.Round(2)) {
		probs = append(probs, "amount "+p.Amount.String()+" has more than two fraction digits")
	}
	if _, err := time.Parse(time.DateOnly, p.ValueDate); err != nil {
		probs = append(probs, fmt.Sprintf("valueDate %q is not a date YYYY-MM-DD", p.ValueDate))
	}
	if len(probs) > 0 {
		return fmt.Errorf("payment record: %s", strings.Join(probs, "; "))
	}
	return nil
}

func (s *Server) addPayment(w http.ResponseWriter, r *http.Request) {
	var p PaymentRecord
	if !decodeJSON(w, r, &p) {
		return
	}
	if err := s.AddPaymentRecord(p); err != nil {
		status := http.StatusBadRequest
		if strings.Contains(err.Error(), "already reported") {
			status = http.StatusConflict
		}
		http.Error(w, err.Error(), status)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// AddPaymentRecord stores what the payment platform reported. Reporting the same transactionId
// again with the same content is a no-op; with other content it is refused.
func (s *Server) AddPaymentRecord(p PaymentRecord) error {
	if err := p.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.payments {
		if q.TransactionID == p.TransactionID {
			if q.Kassenzeichen == p.Kassenzeichen && q.Amount.Equal(p.Amount) && q.ValueDate == p.ValueDate {
				return nil
			}
			return fmt.Errorf("payment record: transactionId %s already reported with other content", p.TransactionID)
		}
	}
	s.payments = append(s.payments, p)
	return nil
}

// Ledger lists Soll and Ist per Kassenzeichen, sorted by Kassenzeichen.
func (s *Server) Ledger() []LedgerLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := map[string]*LedgerLine{}
	line := func(k string) *LedgerLine {
		if l, ok := lines[k]; ok {
			return l
		}
		l := &LedgerLine{Kassenzeichen: k, Soll: decimal.Zero, Ist: decimal.Zero, Anordnungen: []string{}, Payments: []PaymentRecord{}}
		lines[k] = l
		return l
	}
	for _, n := range s.bookOrder {
		b := s.bookings[n]
		for _, p := range b.Positions {
			l := line(p.Kassenzeichen)
			l.Soll = l.Soll.Add(p.Amount)
			if len(l.Anordnungen) == 0 || l.Anordnungen[len(l.Anordnungen)-1] != n {
				l.Anordnungen = append(l.Anordnungen, n)
			}
		}
	}
	for _, p := range s.payments {
		l := line(p.Kassenzeichen)
		l.Ist = l.Ist.Add(p.Amount)
		l.Payments = append(l.Payments, p)
	}
	out := make([]LedgerLine, 0, len(lines))
	for _, l := range lines {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kassenzeichen < out[j].Kassenzeichen })
	return out
}

func (s *Server) ledger(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Ledger())
}

// Control is the kit's client of the HKR mock's control API.
type Control struct {
	control.Client
}

// NewControl returns a client for the mock at baseURL (no trailing slash needed).
func NewControl(baseURL string) *Control {
	return &Control{control.NewClient("hkr", baseURL, 30*time.Second)}
}

func (c *Control) do(ctx context.Context, method, path string, in, out any) error {
	return c.Do(ctx, method, path, in, out)
}

// AddFault arms a fault.
func (c *Control) AddFault(ctx context.Context, f Fault) error {
	return c.do(ctx, http.MethodPost, faultsPath, f, nil)
}

// Faults lists the armed faults (Count shows what is left).
func (c *Control) Faults(ctx context.Context) ([]Fault, error) {
	var out []Fault
	err := c.do(ctx, http.MethodGet, faultsPath, nil, &out)
	return out, err
}

// ClearFaults disarms every fault.
func (c *Control) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, faultsPath, nil, nil)
}

// ClearFaultsMatching disarms the faults armed with Match equal to match, leaving the others.
func (c *Control) ClearFaultsMatching(ctx context.Context, match string) error {
	return c.do(ctx, http.MethodDelete, faultsPath+"?match="+url.QueryEscape(match), nil, nil)
}

// Messages returns every received message, raw bytes included.
func (c *Control) Messages(ctx context.Context) ([]Message, error) {
	var out []Message
	err := c.do(ctx, http.MethodGet, messagesPath, nil, &out)
	return out, err
}

// Bookings returns what is booked, once per anordnungsNummerExtern, in booking order.
func (c *Control) Bookings(ctx context.Context) ([]Booking, error) {
	var out []Booking
	err := c.do(ctx, http.MethodGet, bookingsPath, nil, &out)
	return out, err
}

// AddPaymentRecord tells the mock what the payment platform reported (Ist).
func (c *Control) AddPaymentRecord(ctx context.Context, p PaymentRecord) error {
	return c.do(ctx, http.MethodPost, paymentsPath, p, nil)
}

// Ledger returns Soll and Ist per Kassenzeichen, raw, without a verdict.
func (c *Control) Ledger(ctx context.Context) ([]LedgerLine, error) {
	var out []LedgerLine
	err := c.do(ctx, http.MethodGet, ledgerPath, nil, &out)
	return out, err
}
