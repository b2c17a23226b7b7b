// Package fitconnect is the reference Fachverfahren's subscriber client of the FIT-Connect
// Submission API v1: OAuth client-credentials tokens, the submission list, submissions,
// attachments, the case event log and the delivery service's signing keys.
package fitconnect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ErrConflict is returned by PostEvent when the delivery service answers 409: the case is
// no longer in a state that allows the event, i.e. a decision was already posted.
var ErrConflict = errors.New("event conflicts with the case state (409)")

// APIError is an unexpected HTTP answer.
type APIError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Status, e.Body)
}

// Client talks to the Submission API as a subscriber.
type Client struct {
	base, tokenURL, clientID, secret string
	http                             *http.Client
	now                              func() time.Time

	mu     sync.Mutex
	token  string
	expiry time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithClock sets the clock for token expiry.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a client. baseURL has no trailing slash; paths /v1/... follow.
func New(baseURL, tokenURL, clientID, clientSecret string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), tokenURL: tokenURL, clientID: clientID, secret: clientSecret,
		http: &http.Client{Timeout: 60 * time.Second}, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// tokenMargin is how long before its expiry a token is renewed.
const tokenMargin = 30 * time.Second

func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expiry) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.clientID}, "client_secret": {c.secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", &APIError{Method: "POST", URL: c.tokenURL, Status: resp.StatusCode, Body: snippet(body)}
	}
	var tok struct {
		AccessToken string      `json:"access_token"`
		ExpiresIn   json.Number `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token response without access_token: %s", snippet(body))
	}
	life := 5 * time.Minute
	if n, err := strconv.ParseFloat(tok.ExpiresIn.String(), 64); err == nil && n > 0 {
		life = time.Duration(n) * time.Second
	}
	c.token = tok.AccessToken
	c.expiry = c.now().Add(life - tokenMargin)
	return c.token, nil
}

func (c *Client) dropToken() {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
}

func snippet(b []byte) string {
	const max = 300
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// do sends an authorised request and retries once with a fresh token on 401.
func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte, auth bool) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
		if err != nil {
			return nil, err
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if auth {
			tok, err := c.accessToken(ctx)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		if resp.StatusCode == http.StatusUnauthorized && auth && attempt == 0 {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			c.dropToken()
			continue
		}
		return resp, nil
	}
}

func (c *Client) getJSON(ctx context.Context, path string, auth bool, v any) error {
	resp, err := c.do(ctx, http.MethodGet, path, "", nil, auth)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return &APIError{Method: "GET", URL: path, Status: resp.StatusCode, Body: snippet(body)}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: bad JSON: %w", path, err)
	}
	return nil
}

// SubmissionRef is an entry of the submission list.
type SubmissionRef struct {
	DestinationID string `json:"destinationId"`
	SubmissionID  string `json:"submissionId"`
	CaseID        string `json:"caseId"`
}

// SubmissionList is one page of GET /v1/submissions.
type SubmissionList struct {
	Count       int             `json:"count"`
	Offset      int             `json:"offset"`
	TotalCount  int             `json:"totalCount"`
	Submissions []SubmissionRef `json:"submissions"`
}

// ListSubmissions reads one page of submissions; an empty destinationID omits the filter.
func (c *Client) ListSubmissions(ctx context.Context, destinationID string, offset, limit int) (SubmissionList, error) {
	q := url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(limit)}}
	if destinationID != "" {
		q.Set("destinationId", destinationID)
	}
	var l SubmissionList
	err := c.getJSON(ctx, "/v1/submissions?"+q.Encode(), true, &l)
	return l, err
}

// ServiceType is the service of a submission.
type ServiceType struct {
	Name        string `json:"name"`
	Identifier  string `json:"identifier"`
	Description string `json:"description,omitempty"`
}

// Submission is GET /v1/submissions/{id}.
type Submission struct {
	DestinationID     string      `json:"destinationId"`
	SubmissionID      string      `json:"submissionId"`
	CaseID            string      `json:"caseId"`
	Attachments       []string    `json:"attachments"`
	ServiceType       ServiceType `json:"serviceType"`
	EncryptedMetadata string      `json:"encryptedMetadata"`
	EncryptedData     string      `json:"encryptedData"`
}

// Submission reads one submission.
func (c *Client) Submission(ctx context.Context, submissionID string) (Submission, error) {
	var s Submission
	err := c.getJSON(ctx, "/v1/submissions/"+url.PathEscape(submissionID), true, &s)
	return s, err
}

// DownloadAttachment streams the encrypted attachment (JWE compact) into w.
func (c *Client) DownloadAttachment(ctx context.Context, submissionID, attachmentID string, w io.Writer) (int64, error) {
	path := "/v1/submissions/" + url.PathEscape(submissionID) + "/attachments/" + url.PathEscape(attachmentID)
	resp, err := c.do(ctx, http.MethodGet, path, "", nil, true)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, &APIError{Method: "GET", URL: path, Status: resp.StatusCode, Body: snippet(body)}
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("GET %s: %w", path, err)
	}
	return n, nil
}

// CaseEvents reads the whole event log of a case (all pages), oldest first.
func (c *Client) CaseEvents(ctx context.Context, caseID string) ([]string, error) {
	var all []string
	for offset := 0; ; {
		var page struct {
			Count      int      `json:"count"`
			Offset     int      `json:"offset"`
			TotalCount int      `json:"totalCount"`
			EventLog   []string `json:"eventLog"`
		}
		q := url.Values{"offset": {strconv.Itoa(offset)}, "limit": {"500"}}
		if err := c.getJSON(ctx, "/v1/cases/"+url.PathEscape(caseID)+"/events?"+q.Encode(), true, &page); err != nil {
			return nil, err
		}
		all = append(all, page.EventLog...)
		offset += len(page.EventLog)
		if len(page.EventLog) == 0 || offset >= page.TotalCount {
			return all, nil
		}
	}
}

// PostEvent posts a SET to the case's event log.
func (c *Client) PostEvent(ctx context.Context, caseID, set string) error {
	path := "/v1/cases/" + url.PathEscape(caseID) + "/events"
	resp, err := c.do(ctx, http.MethodPost, path, "application/jose", []byte(set), true)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	switch {
	case resp.StatusCode == http.StatusConflict:
		return ErrConflict
	case resp.StatusCode/100 == 2:
		return nil
	}
	return &APIError{Method: "POST", URL: path, Status: resp.StatusCode, Body: snippet(body)}
}

// SubmissionSchema is a schema a destination service accepts.
type SubmissionSchema struct {
	SchemaURI string `json:"schemaUri"`
	MimeType  string `json:"mimeType"`
}

// DestinationService is one service of a destination.
type DestinationService struct {
	Identifier        string             `json:"identifier"`
	SubmissionSchemas []SubmissionSchema `json:"submissionSchemas"`
	Regions           []string           `json:"regions"`
}

// Destination is GET /v1/destinations/{id}.
type Destination struct {
	DestinationID    string               `json:"destinationId"`
	Status           string               `json:"status"`
	Services         []DestinationService `json:"services"`
	EncryptionKid    string               `json:"encryptionKid"`
	MetadataVersions []string             `json:"metadataVersions"`
}

// Destination reads a destination's public data.
func (c *Client) Destination(ctx context.Context, destinationID string) (Destination, error) {
	var d Destination
	err := c.getJSON(ctx, "/v1/destinations/"+url.PathEscape(destinationID), true, &d)
	return d, err
}

// DeliveryServiceKeys reads the delivery service's SET signing keys (/.well-known/jwks.json).
func (c *Client) DeliveryServiceKeys(ctx context.Context) (jose.JSONWebKeySet, error) {
	var ks jose.JSONWebKeySet
	err := c.getJSON(ctx, "/.well-known/jwks.json", false, &ks)
	return ks, err
}
