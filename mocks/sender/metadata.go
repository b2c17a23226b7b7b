package sender

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/shopspring/decimal"
)

// The metadata document, schema 1.0.0.
type metadata struct {
	Schema                  string           `json:"$schema"`
	ContentStructure        contentStructure `json:"contentStructure"`
	PublicServiceType       *publicService   `json:"publicServiceType,omitempty"`
	PaymentInformation      *paymentInfo     `json:"paymentInformation,omitempty"`
	ReplyChannel            map[string]any   `json:"replyChannel"`
	AdditionalReferenceInfo *referenceInfo   `json:"additionalReferenceInfo,omitempty"`
}

type contentStructure struct {
	Data        dataStructure    `json:"data"`
	Attachments []attachmentMeta `json:"attachments"`
}

type hashValue struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

type dataStructure struct {
	Hash             hashValue        `json:"hash"`
	SubmissionSchema submissionSchema `json:"submissionSchema"`
}

type submissionSchema struct {
	SchemaURI string `json:"schemaUri"`
	MimeType  string `json:"mimeType"`
}

type attachmentMeta struct {
	AttachmentID string    `json:"attachmentId"`
	Hash         hashValue `json:"hash"`
	Purpose      string    `json:"purpose"`
	MimeType     string    `json:"mimeType"`
	Filename     string    `json:"filename,omitempty"`
	Description  string    `json:"description,omitempty"`
}

type publicService struct {
	Identifier  string `json:"identifier"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

type paymentInfo struct {
	TransactionURL       string      `json:"transactionUrl,omitempty"`
	TransactionID        string      `json:"transactionId"`
	TransactionReference string      `json:"transactionReference"`
	TransactionTimestamp string      `json:"transactionTimestamp,omitempty"`
	PaymentMethod        string      `json:"paymentMethod"`
	PaymentMethodDetail  string      `json:"paymentMethodDetail,omitempty"`
	Status               string      `json:"status"`
	GrossAmount          json.Number `json:"grossAmount,omitempty"`
}

type referenceInfo struct {
	SenderReference string `json:"senderReference,omitempty"`
	ApplicationDate string `json:"applicationDate,omitempty"`
}

var (
	serviceURN       = regexp.MustCompile(`^urn:[a-z0-9][a-z0-9-]{0,31}:[a-z0-9()+,.:=@;$_!*'%/?#-]+$`)
	mimeTypePattern  = regexp.MustCompile(`^[-\w.]+/[-\w.+]+$`)
	transactionIDPat = regexp.MustCompile(`^[\w\d-]{1,36}$`)
	elsterAccount    = regexp.MustCompile(`^\d{10}$`)
	finkRef          = regexp.MustCompile(`^[-._a-z0-9~/]{0,150}$`)
	paymentMethods   = set("GIROPAY", "PAYDIRECT", "CREDITCARD", "PAYPAL", "INVOICE", "OTHER")
	paymentStatuses  = set("INITIAL", "BOOKED", "FAILED", "CANCELED")
	purposes         = set("form", "attachment", "report")
	cent             = decimal.New(1, -2)
)

func set(v ...string) map[string]bool {
	m := make(map[string]bool, len(v))
	for _, s := range v {
		m[s] = true
	}
	return m
}

func checkService(field string, s ServiceType) error {
	if !serviceURN.MatchString(s.Identifier) || len(s.Identifier) < 7 || len(s.Identifier) > 255 {
		return fmt.Errorf("%s.Identifier %q is not a service URN (e.g. urn:de:fim:leika:leistung:99010003001006)", field, s.Identifier)
	}
	return nil
}

func paymentMetadata(p *Payment) (*paymentInfo, error) {
	if p == nil {
		return nil, nil
	}
	if !transactionIDPat.MatchString(p.TransactionID) {
		return nil, fmt.Errorf("Payment.TransactionID %q must be 1–36 word characters or '-'", p.TransactionID)
	}
	if p.TransactionReference == "" {
		return nil, fmt.Errorf("Payment.TransactionReference is required")
	}
	if !paymentMethods[p.PaymentMethod] {
		return nil, fmt.Errorf("Payment.PaymentMethod %q is none of GIROPAY, PAYDIRECT, CREDITCARD, PAYPAL, INVOICE, OTHER", p.PaymentMethod)
	}
	if p.PaymentMethodDetail != "" && !transactionIDPat.MatchString(p.PaymentMethodDetail) {
		return nil, fmt.Errorf("Payment.PaymentMethodDetail %q must be 1–36 word characters or '-'", p.PaymentMethodDetail)
	}
	if !paymentStatuses[p.Status] {
		return nil, fmt.Errorf("Payment.Status %q is none of INITIAL, BOOKED, FAILED, CANCELED", p.Status)
	}
	pi := &paymentInfo{
		TransactionURL: p.TransactionURL, TransactionID: p.TransactionID,
		TransactionReference: p.TransactionReference, PaymentMethod: p.PaymentMethod,
		PaymentMethodDetail: p.PaymentMethodDetail, Status: p.Status,
	}
	if !p.GrossAmount.IsZero() {
		if p.GrossAmount.LessThan(cent) || !p.GrossAmount.Mod(cent).IsZero() {
			return nil, fmt.Errorf("Payment.GrossAmount %s must be at least 0.01 EUR in whole cents", p.GrossAmount)
		}
		// json.Number keeps the decimal's digits; a float64 would not.
		pi.GrossAmount = json.Number(p.GrossAmount.StringFixed(2))
	}
	if !p.Timestamp.IsZero() {
		pi.TransactionTimestamp = p.Timestamp.UTC().Format(time.RFC3339Nano)
	}
	return pi, nil
}

func replyChannelMetadata(rc ReplyChannel) (map[string]any, error) {
	out := map[string]any{}
	if rc.EMail != nil {
		m := map[string]string{"address": rc.EMail.Address}
		if rc.EMail.PGPPublicKey != "" {
			m["pgpPublicKey"] = rc.EMail.PGPPublicKey
		}
		if rc.EMail.Address == "" {
			return nil, fmt.Errorf("ReplyChannel.EMail.Address is required")
		}
		out["eMail"] = m
	}
	if rc.DeMail != nil {
		if rc.DeMail.Address == "" {
			return nil, fmt.Errorf("ReplyChannel.DeMail.Address is required")
		}
		out["deMail"] = map[string]string{"address": rc.DeMail.Address}
	}
	if rc.Fink != nil {
		if rc.Fink.PostfachRef == "" || !finkRef.MatchString(rc.Fink.PostfachRef) {
			return nil, fmt.Errorf("ReplyChannel.Fink.PostfachRef %q is not a FINK mailbox reference", rc.Fink.PostfachRef)
		}
		m := map[string]string{"finkPostfachRef": rc.Fink.PostfachRef}
		if rc.Fink.Host != "" {
			m["host"] = rc.Fink.Host
		}
		out["fink"] = m
	}
	if rc.Elster != nil {
		if !elsterAccount.MatchString(rc.Elster.AccountID) {
			return nil, fmt.Errorf("ReplyChannel.Elster.AccountID %q must be 10 digits", rc.Elster.AccountID)
		}
		if len(rc.Elster.Geschaeftszeichen) > 10 {
			return nil, fmt.Errorf("ReplyChannel.Elster.Geschaeftszeichen is longer than 10 characters")
		}
		m := map[string]string{"accountId": rc.Elster.AccountID}
		if rc.Elster.LieferTicket != "" {
			m["lieferTicket"] = rc.Elster.LieferTicket
		}
		if rc.Elster.Geschaeftszeichen != "" {
			m["geschaeftszeichen"] = rc.Elster.Geschaeftszeichen
		}
		out["elster"] = m
	}
	switch len(out) {
	case 0:
		out["eMail"] = map[string]string{"address": DefaultReplyAddress}
	case 1:
	default:
		return nil, fmt.Errorf("ReplyChannel must name exactly one channel, it names %d", len(out))
	}
	return out, nil
}

func referenceMetadata(r *ReferenceInfo) *referenceInfo {
	if r == nil {
		return nil
	}
	ri := &referenceInfo{SenderReference: r.SenderReference}
	if !r.ApplicationDate.IsZero() {
		ri.ApplicationDate = r.ApplicationDate.Format(time.DateOnly) // the calendar date where it was filed
	}
	return ri
}
