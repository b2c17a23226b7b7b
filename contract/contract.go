// Package contract holds the wire format of the SUT contract (docs/sut-contract.md): the names
// of the configuration variables and the JSON of the probe API. It is the only code the
// reference Fachverfahren and the suites share.
package contract

import "time"

// Version is the contract version this kit speaks. Version 2 adds XTA 2 and the declaration of
// transports; a version 1 SUT is a FIT-Connect SUT.
const Version = "2"

// Supported lists the contract versions this kit tests: version 2 only adds to version 1.
var Supported = []string{"1", "2"}

// Transports a SUT may serve.
const (
	TransportFitConnect = "fitconnect"
	TransportXTA        = "xta"
)

// Configuration variables handed to the SUT.
const (
	EnvContractVersion  = "KONFORM_CONTRACT_VERSION"
	EnvListenAddr       = "KONFORM_LISTEN_ADDR"
	EnvSubmissionAPIURL = "KONFORM_FITCONNECT_SUBMISSION_API_URL"
	EnvTokenURL         = "KONFORM_FITCONNECT_TOKEN_URL"
	EnvClientID         = "KONFORM_FITCONNECT_CLIENT_ID"
	EnvClientSecret     = "KONFORM_FITCONNECT_CLIENT_SECRET"
	EnvDestinationID    = "KONFORM_FITCONNECT_DESTINATION_ID"
	EnvDecryptionJWK    = "KONFORM_FITCONNECT_DECRYPTION_JWK"
	EnvSigningJWK       = "KONFORM_FITCONNECT_SIGNING_JWK"
	EnvCallbackURL      = "KONFORM_FITCONNECT_CALLBACK_URL"
	EnvCallbackSecret   = "KONFORM_FITCONNECT_CALLBACK_SECRET"
	EnvPollInterval     = "KONFORM_FITCONNECT_POLL_INTERVAL"
	EnvHKRURL           = "KONFORM_HKR_URL"
	EnvHKRBookingCoding = "KONFORM_HKR_BOOKING_CODING"
	// XTA 2 (contract version 2).
	EnvXTAManagementURL = "KONFORM_XTA_MANAGEMENT_URL"
	EnvXTAMsgBoxURL     = "KONFORM_XTA_MSGBOX_URL"
	EnvXTASendURL       = "KONFORM_XTA_SEND_URL"
	EnvXTAClientCert    = "KONFORM_XTA_CLIENT_CERT"
	EnvXTAClientKey     = "KONFORM_XTA_CLIENT_KEY"
	EnvXTACA            = "KONFORM_XTA_CA"
	EnvXTAReaderID      = "KONFORM_XTA_READER_ID"
	EnvXTAServices      = "KONFORM_XTA_SERVICES"
	EnvXTAPollInterval  = "KONFORM_XTA_POLL_INTERVAL"

	CallbackPath            = "/callbacks/fit-connect"
	ProbePrefix             = "/konform/v1"
	ProbeInfoPath           = ProbePrefix + "/info"
	ProbeCasesPath          = ProbePrefix + "/cases"
	ProbeSubmissionsPathFmt = ProbePrefix + "/submissions/%s"
	// ProbeXTAMessagesPathFmt takes the path-escaped XTA MessageID.
	ProbeXTAMessagesPathFmt = ProbePrefix + "/xta/messages/%s"
)

// SecretEnv lists the variables whose values never appear in evidence or logs.
var SecretEnv = []string{EnvClientSecret, EnvDecryptionJWK, EnvSigningJWK, EnvCallbackSecret, EnvXTAClientKey}

// Info is the answer of GET /konform/v1/info.
type Info struct {
	ContractVersion string `json:"contractVersion"`
	Product         string `json:"product"`
	ProductVersion  string `json:"productVersion"`
	// Vendor names the product's maker (optional; a certificate names it).
	Vendor string `json:"vendor,omitempty"`
	// Transports the SUT serves (contract 2); absent means FIT-Connect only.
	Transports []string `json:"transports,omitempty"`
}

// Served returns the transports the SUT declares, FIT-Connect when it declares none.
func (i Info) Served() []string {
	if len(i.Transports) == 0 {
		return []string{TransportFitConnect}
	}
	return i.Transports
}

// XTAService is one entry of KONFORM_XTA_SERVICES: a service the SUT serves over XTA.
type XTAService struct {
	Service          string           `json:"service"`
	BusinessScenario string           `json:"businessScenario"`
	MessageTypes     []XTAMessageType `json:"messageTypes"`
}

// XTAMessageType is an XÖV message the SUT takes over XTA: the MessageType code (the root
// element's name) and the payloadSchema (its namespace).
type XTAMessageType struct {
	Code          string `json:"code"`
	PayloadSchema string `json:"payloadSchema"`
}

// Submission states reported by the probe.
const (
	StatusAccepted   = "accepted"
	StatusRejected   = "rejected"
	StatusProcessing = "processing"
)

// Booking states reported by the probe.
const (
	BookingPending = "pending"
	BookingBooked  = "booked"
	BookingFailed  = "failed"
)

// Record is the answer of GET /konform/v1/submissions/{submissionId}.
type Record struct {
	SubmissionID string `json:"submissionId"`
	// Transport is "fitconnect" or "xta" (contract 2; absent means fitconnect).
	Transport string `json:"transport,omitempty"`
	// XTAMessageID is the XTA MessageID of a message that came over XTA.
	XTAMessageID      string            `json:"xtaMessageId,omitempty"`
	CaseID            string            `json:"caseId"`
	DestinationID     string            `json:"destinationId"`
	Status            string            `json:"status"`
	ReceivedAt        time.Time         `json:"receivedAt"`
	Problems          []Problem         `json:"problems"`
	Case              *Case             `json:"case,omitempty"`
	ServiceIdentifier string            `json:"serviceIdentifier,omitempty"`
	DataSchemaURI     string            `json:"dataSchemaUri,omitempty"`
	Fields            map[string]string `json:"fields"`
	Attachments       []Attachment      `json:"attachments"`
	Payment           *Payment          `json:"payment,omitempty"`
	Bookings          []Booking         `json:"bookings"`
}

// Problem is one entry of a reject-submission event as the SUT sent it.
type Problem struct {
	Type     string `json:"type"`
	Instance string `json:"instance"`
	Title    string `json:"title,omitempty"`
}

// Case is the SUT's own case for an accepted submission.
type Case struct {
	Reference string    `json:"reference"`
	CreatedAt time.Time `json:"createdAt"`
}

// Attachment is a stored attachment.
type Attachment struct {
	AttachmentID string `json:"attachmentId"`
	Filename     string `json:"filename,omitempty"`
	MimeType     string `json:"mimeType"`
	Purpose      string `json:"purpose"`
	SHA512       string `json:"sha512"`
	Size         int64  `json:"size"`
}

// Payment is the stored paymentInformation. GrossAmount is a decimal string with two fraction digits.
type Payment struct {
	TransactionID        string `json:"transactionId"`
	TransactionReference string `json:"transactionReference"`
	PaymentMethod        string `json:"paymentMethod"`
	Status               string `json:"status"`
	GrossAmount          string `json:"grossAmount,omitempty"`
}

// Booking is one Anordnung the SUT sent or is sending to the HKR system.
type Booking struct {
	AnordnungsNummerExtern string   `json:"anordnungsNummerExtern"`
	Kassenzeichen          string   `json:"kassenzeichen"`
	Amount                 string   `json:"amount"`
	State                  string   `json:"state"`
	Attempts               int      `json:"attempts"`
	Fehlertext             []string `json:"fehlertext"`
}

// CaseList is the answer of GET /konform/v1/cases.
type CaseList struct {
	Cases []CaseEntry `json:"cases"`
}

// CaseEntry is one case of the SUT.
type CaseEntry struct {
	Reference    string    `json:"reference"`
	SubmissionID string    `json:"submissionId"`
	Transport    string    `json:"transport,omitempty"`
	CaseID       string    `json:"caseId"`
	CreatedAt    time.Time `json:"createdAt"`
}

// BookingCoding is the budget coding of one service (KONFORM_HKR_BOOKING_CODING values).
type BookingCoding struct {
	Mandant                string `json:"mandant"`
	Bewirtschaftungsstelle string `json:"bewirtschaftungsstelle"`
	Produkt                string `json:"produkt"`
	Sachkonto              string `json:"sachkonto"`
	Haushaltsstelle        string `json:"haushaltsstelle,omitempty"`
}
