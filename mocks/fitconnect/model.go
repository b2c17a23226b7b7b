package fitconnect

import (
	"encoding/json"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Config is the run-wide set-up of the mock.
type Config struct {
	// PublicBaseURL is the URL clients reach the mock at; it is the iss of the mock's SETs.
	PublicBaseURL string `json:"publicBaseUrl"`
	// TokenTTLSeconds is the lifetime of access tokens issued from now on (0: unchanged).
	TokenTTLSeconds int `json:"tokenTtlSeconds"`
	// SigningKey, when set, is the private JWK (PS512, kid, x5c) the mock signs its SETs with
	// from now on: the kit hands in a key it keeps between runs. Without one the mock generates
	// its own on first use.
	SigningKey json.RawMessage `json:"signingKey,omitempty"`
}

// Client roles.
const (
	RoleSender     = "sender"
	RoleSubscriber = "subscriber"
)

// Client is an OAuth2 API client: a sender (online service) or a subscriber of destinations.
type Client struct {
	ID           string   `json:"id"`
	Secret       string   `json:"secret"`
	Role         string   `json:"role"`
	Destinations []string `json:"destinations,omitempty"`
}

// Destination statuses.
const (
	DestinationCreated        = "created"
	DestinationActive         = "active"
	DestinationInactive       = "inactive"
	DestinationDecommissioned = "decommissioned"
)

// SubmissionSchema names a schema of the Fachdaten a service accepts.
type SubmissionSchema struct {
	SchemaURI string `json:"schemaUri"`
	MimeType  string `json:"mimeType"`
}

// Service is one administrative service a destination offers.
type Service struct {
	Identifier        string             `json:"identifier"`
	Regions           []string           `json:"regions"`
	SubmissionSchemas []SubmissionSchema `json:"submissionSchemas"`
}

// Destination is a Zustellpunkt with its public keys and callback.
type Destination struct {
	ID               string          `json:"destinationId"`
	Status           string          `json:"status"`
	Services         []Service       `json:"services"`
	EncryptionKey    jose.JSONWebKey `json:"encryptionKey"`
	SigningKey       jose.JSONWebKey `json:"signingKey"`
	MetadataVersions []string        `json:"metadataVersions"`
	CallbackURL      string          `json:"callbackUrl,omitempty"`
	CallbackSecret   string          `json:"callbackSecret,omitempty"`
}

// Submission states.
const (
	StateIncomplete = "incomplete"
	StateSubmitted  = "submitted"
	StateForwarded  = "forwarded"
	StateAccepted   = "accepted"
	StateRejected   = "rejected"
)

// AttachmentState is one announced attachment of a submission.
type AttachmentState struct {
	ID       string `json:"attachmentId"`
	Uploaded bool   `json:"uploaded"`
	Size     int64  `json:"size,omitempty"`
}

// EventRecord is one SET of a case log as the mock stored it.
type EventRecord struct {
	Event    string          `json:"event"`
	Issuer   string          `json:"issuer"`
	Subject  string          `json:"subject,omitempty"`
	IssuedAt int64           `json:"issuedAt,omitempty"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Raw      string          `json:"raw"`
	Injected bool            `json:"injected,omitempty"`
}

// SubmissionState is the mock's view of a submission, for the suites.
type SubmissionState struct {
	ID            string            `json:"submissionId"`
	DestinationID string            `json:"destinationId"`
	CaseID        string            `json:"caseId"`
	State         string            `json:"state"`
	Sender        string            `json:"sender"`
	ServiceType   ServiceType       `json:"serviceType"`
	Attachments   []AttachmentState `json:"attachments"`
	CallbackURL   string            `json:"callbackUrl,omitempty"`
	CreatedAt     time.Time         `json:"createdAt"`
	SubmittedAt   *time.Time        `json:"submittedAt,omitempty"`
	// Held says the submission is held back from subscribers (Control.Hold) until released.
	Held   bool          `json:"held,omitempty"`
	Events []EventRecord `json:"events"`
}

// ServiceType is the administrative service a submission is for. Name is echoed as sent, also
// when empty.
type ServiceType struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Identifier  string `json:"identifier"`
}

// CallbackRequest asks the mock to send one callback now.
type CallbackRequest struct {
	DestinationID string `json:"destinationId"`
	// Body is sent as is; nil sends new-submissions for the destination's waiting submissions.
	Body json.RawMessage `json:"body,omitempty"`
	// Timestamp overrides callback-timestamp (e.g. a stale one).
	Timestamp *time.Time `json:"timestamp,omitempty"`
	// Secret "" signs with the registered secret; anything else signs with this (wrong) one.
	Secret string `json:"secret,omitempty"`
}

// CallbackResult is how the receiver answered.
type CallbackResult struct {
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
	Body   string `json:"body,omitempty"`
}

// HoldRequest holds back (Held) or releases the submissions of a destination.
type HoldRequest struct {
	Held bool `json:"held"`
}

// HoldResult lists the submissions a release made visible, in creation order.
type HoldResult struct {
	Released []string `json:"released"`
}

// ListingConfig shapes the submission listing.
type ListingConfig struct {
	// MaxPageSize caps the items of one listing page whatever limit the client asks for
	// (0: no cap beyond limit).
	MaxPageSize int `json:"maxPageSize"`
}

// Fault kinds.
const (
	FaultReset  = "reset"
	FaultStatus = "status"
	FaultDelay  = "delay"
)

// Fault disturbs the next Count requests matching Method (empty: any) and PathPattern
// (path.Match syntax, e.g. "/v1/cases/*/events").
type Fault struct {
	Method      string `json:"method,omitempty"`
	PathPattern string `json:"pathPattern"`
	Kind        string `json:"kind"`
	Status      int    `json:"status,omitempty"`
	DelayMS     int    `json:"delayMs,omitempty"`
	Count       int    `json:"count"`
}

type submission struct {
	id, destinationID, caseID, sender string
	serviceType                       ServiceType
	announced                         []string
	uploaded                          map[string]attachmentFile
	callbackURL, callbackSecret       string
	contentPath                       string // the submit's encrypted metadata and data (storedContent)
	state                             string
	held                              bool
	createdAt                         time.Time
	submittedAt                       *time.Time
}

type attachmentFile struct {
	path string
	size int64
	tag  string
}

type caseLog struct {
	id, destinationID string
	events            []storedEvent
	jtis              map[string]bool
}

type storedEvent struct {
	EventRecord
	jti string
}

func (sub *submission) missingAttachments() []string {
	var out []string
	for _, a := range sub.announced {
		if _, ok := sub.uploaded[a]; !ok {
			out = append(out, a)
		}
	}
	return out
}

func (sub *submission) uploadedIDs() []string {
	out := []string{}
	for _, a := range sub.announced {
		if _, ok := sub.uploaded[a]; ok {
			out = append(out, a)
		}
	}
	return out
}
