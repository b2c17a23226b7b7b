package sender

import "fmt"

// Breakage is one deliberate defect in an otherwise correct submission. Each value names the
// receiver duty (FIT-Connect "Verifikation der Einreichung") it probes; a receiver fulfilling
// that duty rejects the submission, one that does not accepts it.
type Breakage int

const (
	// BreakNone sends a correct submission.
	BreakNone Breakage = iota
	// BreakDataHash writes a wrong SHA-512 of the Fachdaten into contentStructure.data.hash.
	// Duty: compare the hash of the decrypted data with the metadata.
	BreakDataHash
	// BreakAttachmentHash writes a wrong SHA-512 for the first attachment into the metadata.
	// Duty: compare the hash of each decrypted attachment with the metadata.
	BreakAttachmentHash
	// BreakMetadataSchema sends metadata that violates the metadata schema 1.0.0 (an empty
	// replyChannel object, which needs exactly one member). Duty: validate metadata against its
	// schema before using it.
	BreakMetadataSchema
	// BreakDataSchema marks Fachdaten that are not valid against their submissionSchema. The
	// caller supplies such data, e.g. through DropElement or Malformed; the sender sends it
	// unchanged. Duty: validate the data against the submissionSchema.
	BreakDataSchema
	// BreakCiphertext alters one character of the data JWE's ciphertext after encryption, so
	// the GCM tag no longer verifies. Duty: reject content that fails authenticated decryption.
	BreakCiphertext
	// BreakWrongKey encrypts the data for another key than the destination's (WithWrongKey, or
	// a fresh one) while keeping the destination's kid. Duty: report undecryptable data.
	BreakWrongKey
	// BreakAttachmentMissing lists an attachment in the metadata that is not part of the
	// submission. Duty: the metadata's attachments must equal the submission's attachments.
	BreakAttachmentMissing
	// BreakAttachmentExtra uploads an attachment that the metadata does not list. Duty: as
	// BreakAttachmentMissing.
	BreakAttachmentExtra
	// BreakSchemaURI declares a submissionSchema URI the destination does not support.
	// Duty: accept only data of a schema the destination announces.
	BreakSchemaURI
	// BreakMetadataVersion declares a metadata $schema of an unsupported version.
	// Duty: accept only metadata versions the destination announces.
	BreakMetadataVersion
	// BreakServiceType names a service the destination does not serve in the metadata's
	// publicServiceType. Duty: accept only services the destination offers.
	BreakServiceType
	// BreakDataInvalid sends the caller's XML data with an element the schema does not expect
	// (UnexpectedElement) as the root's first child: well-formed, the right root, invalid
	// against the XSD. Hash and size are those of the data sent. Duty: validate the data
	// against the XSD of its submissionSchema.
	BreakDataInvalid
	// BreakDataMalformed sends the caller's XML data cut before the root's end tag, so it is not
	// well-formed; hash and size are those of the data sent. Duty: reject data that does not
	// parse as a syntax violation.
	BreakDataMalformed
)

// Breakages lists every defect the sender can produce.
var Breakages = []Breakage{
	BreakDataHash, BreakAttachmentHash, BreakMetadataSchema, BreakDataSchema, BreakCiphertext,
	BreakWrongKey, BreakAttachmentMissing, BreakAttachmentExtra, BreakSchemaURI,
	BreakMetadataVersion, BreakServiceType, BreakDataInvalid, BreakDataMalformed,
}

var breakNames = map[Breakage]string{
	BreakNone:              "none",
	BreakDataHash:          "data-hash",
	BreakAttachmentHash:    "attachment-hash",
	BreakMetadataSchema:    "metadata-schema",
	BreakDataSchema:        "data-schema",
	BreakCiphertext:        "ciphertext",
	BreakWrongKey:          "wrong-key",
	BreakAttachmentMissing: "attachment-missing",
	BreakAttachmentExtra:   "attachment-extra",
	BreakSchemaURI:         "schema-uri",
	BreakMetadataVersion:   "metadata-version",
	BreakServiceType:       "service-type",
	BreakDataInvalid:       "data-invalid",
	BreakDataMalformed:     "data-malformed",
}

func (b Breakage) String() string {
	if s, ok := breakNames[b]; ok {
		return s
	}
	return fmt.Sprintf("Breakage(%d)", int(b))
}

// ParseBreakage maps a name as String returns it back to its Breakage.
func ParseBreakage(name string) (Breakage, error) {
	for b, s := range breakNames {
		if s == name {
			return b, nil
		}
	}
	return 0, fmt.Errorf("sender: unknown breakage %q", name)
}

const (
	// MetadataSchemaURI is the $schema of the metadata the sender writes.
	MetadataSchemaURI = "https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json"
	// UnsupportedMetadataSchemaURI is the $schema BreakMetadataVersion declares.
	UnsupportedMetadataSchemaURI = "https://schema.fitko.de/fit-connect/metadata/9.0.0/metadata.schema.json"
	// UnsupportedSchemaURI is the submissionSchema BreakSchemaURI declares.
	UnsupportedSchemaURI = "urn:konform:schema:unsupported:1.0.0"
	// UnservedServiceIdentifier is the publicServiceType BreakServiceType declares.
	UnservedServiceIdentifier = "urn:de:fim:leika:leistung:99999999999999"
)
