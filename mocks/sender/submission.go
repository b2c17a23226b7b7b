package sender

import (
	"bytes"
	"io"
	"os"
	"time"

	"github.com/shopspring/decimal"
)

// Submission is one application as an online service hands it to FIT-Connect.
type Submission struct {
	DestinationID string
	ServiceType   ServiceType // serviceType of the create-submission request
	Data          Part        // the Fachdaten
	DataSchema    SchemaRef
	Attachments   []Attachment
	Payment       *Payment
	ReplyChannel  ReplyChannel // zero value: eMail to DefaultReplyAddress
	PublicService *ServiceType // metadata publicServiceType; nil: ServiceType
	CaseID        string       // an existing case to add this submission to; empty: a new case
	Callback      *Callback
	Reference     *ReferenceInfo // metadata additionalReferenceInfo, optional
	Break         Breakage       // a deliberate defect; BreakNone sends a correct submission
}

// ServiceType names a Verwaltungsleistung, preferably by its LeiKa URN.
type ServiceType struct {
	Name        string
	Identifier  string // e.g. urn:de:fim:leika:leistung:99010003001006
	Description string
}

// SchemaRef is the metadata's submissionSchema.
type SchemaRef struct {
	URI      string
	MimeType string // "application/xml" or "application/json"
}

// Part is content the sender streams; Open is called once per pass (hash, then encrypt) and
// must yield the same bytes each time.
type Part struct {
	MimeType string
	Open     func() (io.ReadCloser, error)
	Size     int64 // informational; the hash pass measures the real size
}

// Bytes makes a Part of in-memory content.
func Bytes(mimeType string, b []byte) Part {
	return Part{MimeType: mimeType, Size: int64(len(b)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

// File makes a Part that streams the named file.
func File(mimeType, path string) Part {
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	return Part{MimeType: mimeType, Size: size, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// Attachment is an Anlage of the submission.
type Attachment struct {
	Part
	Filename    string
	Purpose     string // "form", "attachment" or "report"
	Description string
}

// Payment is the metadata's paymentInformation as a payment provider (ePayBL etc.) reports it.
type Payment struct {
	TransactionID        string
	TransactionReference string // e.g. the Kassenzeichen
	TransactionURL       string
	PaymentMethod        string // GIROPAY, PAYDIRECT, CREDITCARD, PAYPAL, INVOICE, OTHER
	PaymentMethodDetail  string
	Status               string // INITIAL, BOOKED, FAILED, CANCELED
	GrossAmount          decimal.Decimal
	Timestamp            time.Time // zero: omitted
}

// ReplyChannel is the metadata's replyChannel; exactly one member may be set.
type ReplyChannel struct {
	EMail  *EMailChannel
	DeMail *DeMailChannel
	Fink   *FinkChannel
	Elster *ElsterChannel
}

// DefaultReplyAddress is the eMail reply channel used when a submission names none.
const DefaultReplyAddress = "antragsteller@example.org"

// EMailChannel replies by e-mail, optionally PGP encrypted.
type EMailChannel struct{ Address, PGPPublicKey string }

// DeMailChannel replies by De-Mail.
type DeMailChannel struct{ Address string }

// FinkChannel replies to a FINK.PFISK mailbox.
type FinkChannel struct{ PostfachRef, Host string }

// ElsterChannel replies through ELSTER.
type ElsterChannel struct{ AccountID, LieferTicket, Geschaeftszeichen string }

// Callback is the create-submission callback for new events on the case.
type Callback struct {
	URL    string // https only
	Secret string // 32–512 characters
}

// ReferenceInfo is the metadata's additionalReferenceInfo.
type ReferenceInfo struct {
	SenderReference string
	ApplicationDate time.Time // only the date is sent; zero: omitted
}

// Result is what was sent, for the suites to compare with what the receiver reports.
type Result struct {
	SubmissionID       string
	CaseID             string
	DestinationID      string
	AttachmentIDs      []string // as announced and uploaded, in upload order
	AuthenticationTags AuthenticationTags
	MetadataJSON       []byte // the metadata exactly as encrypted
	Hashes             Hashes
	Break              Breakage
	// MetadataOnlyAttachmentID is the attachment BreakAttachmentMissing lists in the metadata
	// without uploading it; ExtraAttachmentID the one BreakAttachmentExtra uploads without
	// listing it.
	MetadataOnlyAttachmentID string
	ExtraAttachmentID        string
}

// AuthenticationTags are the fifth segments of the JWEs, as the accept-submission SET reports them.
type AuthenticationTags struct {
	Metadata    string            `json:"metadata"`
	Data        string            `json:"data"`
	Attachments map[string]string `json:"attachments"`
}

// Hashes are the hex SHA-512 digests of the plaintexts actually sent (not the ones a Breakage
// may have written into the metadata).
type Hashes struct {
	Data        string
	Attachments map[string]string
}
