package intake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/konform/konform/reference/fitconnect"
	"github.com/konform/konform/reference/store"
	"github.com/konform/konform/reference/xsd"
)

// Problem names under https://schema.fitko.de/fit-connect/events/problems/.
const (
	ProblemEncryptionIssue     = "encryption-issue"
	ProblemSyntaxViolation     = "syntax-violation"
	ProblemUnsupportedSchema   = "unsupported-schema"
	ProblemSchemaViolation     = "schema-violation"
	ProblemHashMismatch        = "hash-mismatch"
	ProblemAttachmentsMismatch = "attachments-mismatch"
	ProblemIncorrectAuthTag    = "incorrect-authentication-tag"
	ProblemUnsupportedService  = "unsupported-service"
	ProblemInvalidEventLog     = "invalid-event-log"
	ProblemMissingData         = "missing-data"
	ProblemTechnicalError      = "technical-error"
)

var problemTitles = map[string]string{
	ProblemEncryptionIssue:     "Entschlüsselungsfehler",
	ProblemSyntaxViolation:     "Syntax-Fehler",
	ProblemUnsupportedSchema:   "Schema nicht unterstützt",
	ProblemSchemaViolation:     "Schema-Verletzung",
	ProblemHashMismatch:        "Prüfsumme stimmt nicht",
	ProblemAttachmentsMismatch: "Anlagen inkonsistent",
	ProblemIncorrectAuthTag:    "Authentication-Tag ungültig",
	ProblemUnsupportedService:  "Verwaltungsleistung nicht unterstützt",
	ProblemInvalidEventLog:     "Event-Log inkonsistent",
	ProblemMissingData:         "Fachdaten fehlen",
	ProblemTechnicalError:      "Technischer Fehler",
}

func problem(name, instance, detail string) store.Problem {
	return store.Problem{Type: fitconnect.ProblemPrefix + name, Title: problemTitles[name], Detail: detail, Instance: instance}
}

// Metadata schema 1.0.0.
const (
	MetadataSchemaV100URI  = "https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json"
	MetadataSchemaFileV100 = "fit-connect/metadata.schema.v1.0.0.json"
)

// LoadMetadataSchema compiles the metadata schema 1.0.0 from a folder laid out like the
// specs folder (<dir>/fit-connect/metadata.schema.v1.0.0.json).
func LoadMetadataSchema(dir string) (*jsonschema.Schema, error) {
	path := dir + "/" + MetadataSchemaFileV100
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("metadata schema %s: %w", path, err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("metadata schema %s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(MetadataSchemaV100URI, doc); err != nil {
		return nil, fmt.Errorf("metadata schema %s: %w", path, err)
	}
	s, err := c.Compile(MetadataSchemaV100URI)
	if err != nil {
		return nil, fmt.Errorf("metadata schema %s: %w", path, err)
	}
	return s, nil
}

// Metadata is the part of the FIT-Connect metadata the reference reads.
type Metadata struct {
	Schema           string `json:"$schema"`
	ContentStructure struct {
		Data struct {
			Hash             Hash `json:"hash"`
			SubmissionSchema struct {
				SchemaURI string `json:"schemaUri"`
				MimeType  string `json:"mimeType"`
			} `json:"submissionSchema"`
		} `json:"data"`
		Attachments []struct {
			AttachmentID string `json:"attachmentId"`
			Hash         Hash   `json:"hash"`
			Purpose      string `json:"purpose"`
			MimeType     string `json:"mimeType"`
			Filename     string `json:"filename"`
		} `json:"attachments"`
	} `json:"contentStructure"`
	PublicServiceType *struct {
		Identifier string `json:"identifier"`
		Name       string `json:"name"`
	} `json:"publicServiceType"`
	PaymentInformation *struct {
		TransactionID        string      `json:"transactionId"`
		TransactionReference string      `json:"transactionReference"`
		PaymentMethod        string      `json:"paymentMethod"`
		Status               string      `json:"status"`
		GrossAmount          json.Number `json:"grossAmount"`
	} `json:"paymentInformation"`
}

// Hash is a hash entry of the metadata.
type Hash struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

func decodeMetadata(raw []byte) (Metadata, error) {
	var m Metadata
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return m, err
	}
	return m, nil
}

func validateAgainst(s *jsonschema.Schema, raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if err := s.Validate(inst); err != nil {
		msg := err.Error()
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return fmt.Errorf("%s", strings.TrimSpace(msg))
	}
	return nil
}

// DataSchema is a submission schema the reference can read.
type DataSchema struct {
	URI       string
	MimeType  string
	RootLocal string
	RootSpace string
	// XSD is the schema file inside the specs folder (KONFORM_REFERENCE_SCHEMA_DIR).
	XSD string
}

// XBauAntrag0200 is XBau 2.3.1 baugenehmigung.antrag.0200 as XML.
var XBauAntrag0200 = DataSchema{
	URI:       "urn:xoev-de:bmk:standard:xbau_2.3.1#baugenehmigung.antrag.0200",
	MimeType:  "application/xml",
	RootLocal: "baugenehmigung.antrag.0200",
	RootSpace: "http://www.xleitstelle.de/xbau/2/3/1",
	XSD:       "xbau-2.3.1/xsd_dev/xbau-nachrichten-baugenehmigung.xsd",
}

// XBauAnzeige0600 is XBau 2.3.1 genehmigungsfreistellung.anzeige.0600 as XML.
var XBauAnzeige0600 = DataSchema{
	URI:       "urn:xoev-de:bmk:standard:xbau_2.3.1#genehmigungsfreistellung.anzeige.0600",
	MimeType:  "application/xml",
	RootLocal: "genehmigungsfreistellung.anzeige.0600",
	RootSpace: "http://www.xleitstelle.de/xbau/2/3/1",
	XSD:       "xbau-2.3.1/xsd_dev/xbau-nachrichten-genehmigungsfreistellung.xsd",
}

// DataSchemas lists every submission schema the reference reads.
var DataSchemas = []DataSchema{XBauAntrag0200, XBauAnzeige0600}

// readable returns the schema the reference reads under this URI and MIME type.
func readable(uri, mimeType string) (DataSchema, bool) {
	for _, s := range DataSchemas {
		if s.URI == uri && s.MimeType == mimeType {
			return s, true
		}
	}
	return DataSchema{}, false
}

// LoadDataXSDs compiles the XSD of every submission schema from a folder laid out like the
// specs folder, keyed by schema URI.
func LoadDataXSDs(dir string) (map[string]*xsd.Schema, error) {
	out := map[string]*xsd.Schema{}
	for _, ds := range DataSchemas {
		s, err := xsd.Load(filepath.Join(dir, ds.XSD))
		if err != nil {
			return nil, fmt.Errorf("submission schema %s: %w", ds.URI, err)
		}
		out[ds.URI] = s
	}
	return out, nil
}
