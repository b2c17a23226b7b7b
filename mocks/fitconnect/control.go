package fitconnect

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/konform/konform/mocks/control"

	"github.com/go-jose/go-jose/v4"

	"github.com/konform/konform/mocks/pki"
	"github.com/konform/konform/mocks/recorder"
)

// Control API paths below recorder.ControlPrefix.
const (
	HealthPath       = control.HealthPath
	ConfigPath       = recorder.ControlPrefix + "config"
	ClientsPath      = recorder.ControlPrefix + "clients"
	DestinationsPath = recorder.ControlPrefix + "destinations"
	SubmissionsPath  = recorder.ControlPrefix + "submissions"
	CallbacksPath    = recorder.ControlPrefix + "callbacks"
	CasesPath        = recorder.ControlPrefix + "cases"
	FaultsPath       = recorder.ControlPrefix + "faults"
	HeldPath         = recorder.ControlPrefix + "held"
	SigningKeyPath   = recorder.ControlPrefix + "signing-key"
	ListingPath      = recorder.ControlPrefix + "listing"
)

var metadataVersionRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$`)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

type controlError struct {
	Error string `json:"error"`
}

func controlFail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, controlError{msg})
}

func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
	if err != nil {
		controlFail(w, http.StatusBadRequest, "reading body: "+err.Error())
		return false
	}
	if err := decodeJSONBody(body, v); err != nil {
		controlFail(w, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}

func (s *Server) controlRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, r *http.Request) {
		if s.initErr != nil {
			controlFail(w, http.StatusServiceUnavailable, s.initErr.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "actor": Actor})
	})
	mux.Handle("GET "+recorder.ExchangesPath, s.rec.Handler())
	mux.Handle("GET "+recorder.LastPath, s.rec.Handler())
	mux.Handle("PUT "+recorder.RetentionPath, s.rec.RetentionHandler())
	mux.HandleFunc("PUT "+ConfigPath, s.ctlConfigure)
	mux.HandleFunc("POST "+ClientsPath, s.ctlAddClient)
	mux.HandleFunc("POST "+DestinationsPath, s.ctlAddDestination)
	mux.HandleFunc("PUT "+DestinationsPath+"/{id}/status", s.ctlSetStatus)
	mux.HandleFunc("PUT "+DestinationsPath+"/{id}/hold", s.ctlHold)
	mux.HandleFunc("PUT "+ListingPath, s.ctlListing)
	mux.HandleFunc("GET "+SubmissionsPath, s.ctlSubmissions)
	mux.HandleFunc("GET "+SubmissionsPath+"/{id}", s.ctlSubmission)
	mux.HandleFunc("POST "+CallbacksPath, s.ctlCallback)
	mux.HandleFunc("POST "+CasesPath+"/{caseId}/events", s.ctlInjectEvent)
	mux.HandleFunc("POST "+SubmissionsPath+"/{id}/submit-tags", s.ctlTamperSubmitTags)
	mux.HandleFunc("POST "+FaultsPath, s.ctlAddFault)
	mux.HandleFunc("GET "+HeldPath, s.ctlHeld)
	mux.HandleFunc("GET "+FeedPath, s.ctlFeed)
	mux.HandleFunc("GET "+SigningKeyPath, func(w http.ResponseWriter, r *http.Request) {
		key, err := s.signingKey()
		if err != nil {
			controlFail(w, http.StatusServiceUnavailable, "no signing key: "+err.Error())
			return
		}
		raw, err := pki.MarshalJWK(key.Public, key.PublicOps)
		if err != nil {
			controlFail(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(raw)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		controlFail(w, http.StatusNotFound, "no control endpoint "+r.Method+" "+r.URL.Path)
	})
	return mux
}

func (s *Server) ctlConfigure(w http.ResponseWriter, r *http.Request) {
	var cfg Config
	if !decodeControl(w, r, &cfg) {
		return
	}
	if cfg.PublicBaseURL != "" {
		if u, err := url.Parse(cfg.PublicBaseURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			controlFail(w, http.StatusBadRequest, "publicBaseUrl "+strconv.Quote(cfg.PublicBaseURL)+" is not an absolute http(s) URL")
			return
		}
	}
	if cfg.TokenTTLSeconds < 0 {
		controlFail(w, http.StatusBadRequest, "tokenTtlSeconds must not be negative")
		return
	}
	if len(cfg.SigningKey) > 0 {
		k, err := pki.KeyFromJWK(cfg.SigningKey)
		if err == nil && k.JWK.Algorithm != pki.AlgSigning {
			err = fmt.Errorf("alg %q, want %s", k.JWK.Algorithm, pki.AlgSigning)
		}
		if err != nil {
			controlFail(w, http.StatusBadRequest, "signingKey: "+err.Error())
			return
		}
		s.setSigningKey(k)
	}
	s.mu.Lock()
	if cfg.PublicBaseURL != "" {
		s.cfg.PublicBaseURL = strings.TrimRight(cfg.PublicBaseURL, "/")
	}
	if cfg.TokenTTLSeconds > 0 {
		s.tokenTTL = time.Duration(cfg.TokenTTLSeconds) * time.Second
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlAddClient(w http.ResponseWriter, r *http.Request) {
	var cl Client
	if !decodeControl(w, r, &cl) {
		return
	}
	switch {
	case cl.ID == "" || cl.Secret == "":
		controlFail(w, http.StatusBadRequest, "client: id and secret are required")
		return
	case cl.Role != RoleSender && cl.Role != RoleSubscriber:
		controlFail(w, http.StatusBadRequest, "client "+cl.ID+": role "+strconv.Quote(cl.Role)+" is not sender or subscriber")
		return
	case cl.Role == RoleSubscriber && len(cl.Destinations) == 0:
		controlFail(w, http.StatusBadRequest, "client "+cl.ID+": a subscriber needs at least one destination")
		return
	}
	for i, d := range cl.Destinations {
		if !validUUID(d) {
			controlFail(w, http.StatusBadRequest, "client "+cl.ID+": destination "+strconv.Quote(d)+" is not a UUID")
			return
		}
		cl.Destinations[i] = strings.ToLower(d)
	}
	s.mu.Lock()
	s.clients[cl.ID] = cl
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func checkDestinationKey(k *jose.JSONWebKey, alg, what string) error {
	if k.Key == nil {
		return fmt.Errorf("%s missing", what)
	}
	if _, ok := k.Public().Key.(*rsa.PublicKey); !ok {
		return fmt.Errorf("%s is not an RSA key", what)
	}
	if k.KeyID == "" {
		return fmt.Errorf("%s has no kid", what)
	}
	if k.Algorithm == "" {
		k.Algorithm = alg
	}
	if k.Algorithm != alg {
		return fmt.Errorf("%s has alg %s, want %s", what, k.Algorithm, alg)
	}
	pub := k.Public()
	*k = pub
	return nil
}

func validateDestination(d *Destination) error {
	if !validUUID(d.ID) {
		return fmt.Errorf("destination: destinationId %q is not a UUID", d.ID)
	}
	d.ID = strings.ToLower(d.ID)
	if d.Status == "" {
		d.Status = DestinationActive
	}
	if !slices.Contains([]string{DestinationCreated, DestinationActive, DestinationInactive, DestinationDecommissioned}, d.Status) {
		return fmt.Errorf("destination %s: status %q is not created, active, inactive or decommissioned", d.ID, d.Status)
	}
	if len(d.Services) == 0 {
		return fmt.Errorf("destination %s: at least one service is required", d.ID)
	}
	for i, sv := range d.Services {
		if !serviceIdentifierRE.MatchString(sv.Identifier) {
			return fmt.Errorf("destination %s: services[%d].identifier %q is not a service URN", d.ID, i, sv.Identifier)
		}
		if len(sv.Regions) == 0 {
			d.Services[i].Regions = []string{"DE"}
		}
		if len(sv.SubmissionSchemas) == 0 {
			return fmt.Errorf("destination %s: services[%d] needs at least one submission schema", d.ID, i)
		}
		for j, sc := range sv.SubmissionSchemas {
			if sc.SchemaURI == "" || (sc.MimeType != "application/json" && sc.MimeType != "application/xml") {
				return fmt.Errorf("destination %s: services[%d].submissionSchemas[%d] needs a schemaUri and mimeType application/json or application/xml", d.ID, i, j)
			}
		}
	}
	if err := checkDestinationKey(&d.EncryptionKey, pki.AlgEncryption, "encryptionKey"); err != nil {
		return fmt.Errorf("destination %s: %v", d.ID, err)
	}
	if err := checkDestinationKey(&d.SigningKey, pki.AlgSigning, "signingKey"); err != nil {
		return fmt.Errorf("destination %s: %v", d.ID, err)
	}
	if d.EncryptionKey.KeyID == d.SigningKey.KeyID {
		return fmt.Errorf("destination %s: encryption and signing key share kid %q", d.ID, d.SigningKey.KeyID)
	}
	if len(d.MetadataVersions) == 0 {
		d.MetadataVersions = []string{"1.0.0"}
	}
	for _, v := range d.MetadataVersions {
		if !metadataVersionRE.MatchString(v) {
			return fmt.Errorf("destination %s: metadata version %q is not semantic", d.ID, v)
		}
	}
	if d.CallbackURL != "" {
		if err := checkCallbackURL(d.CallbackURL); err != nil {
			return fmt.Errorf("destination %s: callbackUrl: %v", d.ID, err)
		}
		if n := len(d.CallbackSecret); n < 32 || n > 512 {
			return fmt.Errorf("destination %s: callbackSecret must be 32 to 512 characters, got %d", d.ID, n)
		}
	}
	return nil
}

func (s *Server) ctlAddDestination(w http.ResponseWriter, r *http.Request) {
	var d Destination
	if !decodeControl(w, r, &d) {
		return
	}
	if err := validateDestination(&d); err != nil {
		controlFail(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	s.destinations[d.ID] = &d
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlSetStatus(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Status string `json:"status"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	id := strings.ToLower(r.PathValue("id"))
	if !slices.Contains([]string{DestinationCreated, DestinationActive, DestinationInactive, DestinationDecommissioned}, body.Status) {
		controlFail(w, http.StatusBadRequest, "status "+strconv.Quote(body.Status)+" is not created, active, inactive or decommissioned")
		return
	}
	s.mu.Lock()
	d, ok := s.destinations[id]
	if ok {
		d.Status = body.Status
	}
	s.mu.Unlock()
	if !ok {
		controlFail(w, http.StatusNotFound, "no destination "+id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Snapshot returns the mock's view of every submission, in creation order.
func (s *Server) Snapshot() []SubmissionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []SubmissionState{}
	for _, id := range s.order {
		out = append(out, s.stateOf(s.submissions[id]))
	}
	return out
}

// ctlSubmission answers the mock's view of one submission: what a judge waiting on it reads,
// without the whole run's submissions each time.
func (s *Server) ctlSubmission(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sub, ok := s.submissions[r.PathValue("id")]
	var st SubmissionState
	if ok {
		st = s.stateOf(sub)
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no submission " + r.PathValue("id")})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// stateOf is the view of one submission; s.mu is held.
func (s *Server) stateOf(sub *submission) SubmissionState {
	st := SubmissionState{ID: sub.id, DestinationID: sub.destinationID, CaseID: sub.caseID, State: sub.state,
		Sender: sub.sender, ServiceType: sub.serviceType, CallbackURL: sub.callbackURL, CreatedAt: sub.createdAt,
		SubmittedAt: sub.submittedAt, Held: sub.held, Attachments: []AttachmentState{}, Events: []EventRecord{}}
	for _, a := range sub.announced {
		f, ok := sub.uploaded[a]
		st.Attachments = append(st.Attachments, AttachmentState{ID: a, Uploaded: ok, Size: f.size})
	}
	if c := s.cases[sub.caseID]; c != nil {
		for _, e := range c.events {
			if e.Subject == "submission:"+sub.id || (e.Injected && e.Subject == "") {
				st.Events = append(st.Events, e.EventRecord)
			}
		}
	}
	return st
}

// ctlHold holds back the destination's submissions submitted from now on — not listed, not
// fetchable, no callback — or releases every held one (without a callback).
func (s *Server) ctlHold(w http.ResponseWriter, r *http.Request) {
	var body HoldRequest
	if !decodeControl(w, r, &body) {
		return
	}
	id := strings.ToLower(r.PathValue("id"))
	s.mu.Lock()
	if _, ok := s.destinations[id]; !ok {
		s.mu.Unlock()
		controlFail(w, http.StatusNotFound, "no destination "+id)
		return
	}
	res := HoldResult{Released: []string{}}
	if body.Held {
		s.holds[id] = true
	} else {
		delete(s.holds, id)
		for _, sid := range s.order {
			if sub := s.submissions[sid]; sub.destinationID == id && sub.held {
				sub.held = false
				res.Released = append(res.Released, sid)
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) ctlListing(w http.ResponseWriter, r *http.Request) {
	var lc ListingConfig
	if !decodeControl(w, r, &lc) {
		return
	}
	if lc.MaxPageSize < 0 || lc.MaxPageSize > 500 {
		controlFail(w, http.StatusBadRequest, fmt.Sprintf("maxPageSize %d must be 0 (no cap) to 500", lc.MaxPageSize))
		return
	}
	s.mu.Lock()
	s.maxPage = lc.MaxPageSize
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlSubmissions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Snapshot())
}

func (s *Server) ctlCallback(w http.ResponseWriter, r *http.Request) {
	var cr CallbackRequest
	if !decodeControl(w, r, &cr) {
		return
	}
	cr.DestinationID = strings.ToLower(cr.DestinationID)
	res, err := s.sendCallback(r.Context(), cr)
	if err != nil {
		controlFail(w, http.StatusBadRequest, "callback: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) ctlInjectEvent(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SET string `json:"set"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	if body.SET == "" {
		controlFail(w, http.StatusBadRequest, "set is empty")
		return
	}
	caseID := strings.ToLower(r.PathValue("caseId"))
	rec := EventRecord{Raw: body.SET, Injected: true}
	// Best effort: a forged SET may be broken on purpose.
	if c, err := parseSET(body.SET); err == nil {
		rec.Event, rec.Issuer, rec.Subject, rec.IssuedAt, rec.Payload = c.event, c.iss, c.sub, c.iat, c.eventPayload
	}
	s.mu.Lock()
	c, ok := s.cases[caseID]
	if ok {
		s.logEvent(c, storedEvent{EventRecord: rec})
	}
	s.mu.Unlock()
	if !ok {
		controlFail(w, http.StatusNotFound, "no case "+caseID)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlAddFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if !decodeControl(w, r, &f) {
		return
	}
	if err := validateFault(&f); err != nil {
		controlFail(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Control is the client of the mock's control API.
type Control struct {
	control.Client
}

// NewControl returns a client for the mock at baseURL.
func NewControl(baseURL string) *Control {
	return &Control{control.NewClient("fitconnect", baseURL, 60*time.Second)}
}

func (c *Control) do(ctx context.Context, method, path string, in, out any) error {
	return c.Do(ctx, method, path, in, out)
}

// Configure sets the public base URL and the token lifetime.
func (c *Control) Configure(ctx context.Context, cfg Config) error {
	return c.do(ctx, http.MethodPut, ConfigPath, cfg, nil)
}

// AddClient registers (or replaces) an API client.
func (c *Control) AddClient(ctx context.Context, cl Client) error {
	return c.do(ctx, http.MethodPost, ClientsPath, cl, nil)
}

// AddDestination registers (or replaces) a destination with its public keys.
func (c *Control) AddDestination(ctx context.Context, d Destination) error {
	return c.do(ctx, http.MethodPost, DestinationsPath, d, nil)
}

// SetDestinationStatus changes a destination's status.
func (c *Control) SetDestinationStatus(ctx context.Context, id, status string) error {
	return c.do(ctx, http.MethodPut, DestinationsPath+"/"+url.PathEscape(id)+"/status", map[string]string{"status": status}, nil)
}

// Submission returns the mock's view of one submission.
func (c *Control) Submission(ctx context.Context, id string) (SubmissionState, error) {
	var out SubmissionState
	err := c.do(ctx, http.MethodGet, SubmissionsPath+"/"+url.PathEscape(id), nil, &out)
	return out, err
}

// Submissions returns the mock's view of every submission.
func (c *Control) Submissions(ctx context.Context) ([]SubmissionState, error) {
	var out []SubmissionState
	err := c.do(ctx, http.MethodGet, SubmissionsPath, nil, &out)
	return out, err
}

// Hold holds back the destination's submissions submitted from now on: they are not listed,
// not fetchable and not announced by callback until Release.
func (c *Control) Hold(ctx context.Context, destinationID string) error {
	return c.do(ctx, http.MethodPut, DestinationsPath+"/"+url.PathEscape(destinationID)+"/hold", HoldRequest{Held: true}, nil)
}

// Release ends a hold and makes every held submission of the destination visible at once
// (without a callback); it returns their IDs in creation order.
func (c *Control) Release(ctx context.Context, destinationID string) ([]string, error) {
	var out HoldResult
	err := c.do(ctx, http.MethodPut, DestinationsPath+"/"+url.PathEscape(destinationID)+"/hold", HoldRequest{Held: false}, &out)
	return out.Released, err
}

// SetListing shapes the submission listing, e.g. caps its page size.
func (c *Control) SetListing(ctx context.Context, lc ListingConfig) error {
	return c.do(ctx, http.MethodPut, ListingPath, lc, nil)
}

// SendCallback makes the mock send one callback now and returns how the receiver answered.
func (c *Control) SendCallback(ctx context.Context, cb CallbackRequest) (CallbackResult, error) {
	var out CallbackResult
	err := c.do(ctx, http.MethodPost, CallbacksPath, cb, &out)
	return out, err
}

// InjectEvent appends a SET to a case log without any check (to forge events).
func (c *Control) InjectEvent(ctx context.Context, caseID string, set string) error {
	return c.do(ctx, http.MethodPost, CasesPath+"/"+url.PathEscape(caseID)+"/events", map[string]string{"set": set}, nil)
}

// AddFault arms a fault for the next Count matching requests.
func (c *Control) AddFault(ctx context.Context, f Fault) error {
	return c.do(ctx, http.MethodPost, FaultsPath, f, nil)
}

// SigningKey returns the mock's public SET signing key.
func (c *Control) SigningKey(ctx context.Context) (jose.JSONWebKey, error) {
	var k jose.JSONWebKey
	err := c.do(ctx, http.MethodGet, SigningKeyPath, nil, &k)
	if err == nil && k.Key == nil {
		err = errors.New("fitconnect control: signing key answer holds no key")
	}
	return k, err
}
