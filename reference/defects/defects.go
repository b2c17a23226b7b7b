// Package defects names the deliberate faults the reference Fachverfahren can be switched to.
// Each conformance check declares in the catalogue which of them it must catch; the self-test
// runs the suites once per defect and fails when a defect survives.
package defects

import (
	"fmt"
	"sort"
	"strings"

	"github.com/konform/konform/contract"
)

// Defect is one named, deliberate fault.
type Defect struct {
	Name        string
	Description string
}

// All lists every defect the reference knows. Keep names stable: the catalogue refers to them.
var All = []Defect{
	{"probe-wrong-contract-version", "the probe reports a contract version the kit does not know"},
	{"token-wrong-credentials", "requests OAuth tokens with a wrong client secret"},
	{"probe-only", "answers its probe and does nothing else: never logs in, polls or books"},
	{"poll-foreign-destination", "lists submissions without the destination filter and processes every destination it can see"},
	{"float-arithmetic", "computes booking amounts in float64: brutto as int64(amount*100) cents truncates (4.35 → 4.34) and gesamtbetrag of several positions drifts off the cents (0.10+0.20)"},
	{"double-booking-on-retry", "sends each retry of an Anordnung with a new anordnungsNummerExtern, so the HKR system books it again"},
	{"drop-booking-on-503", "gives up an Anordnung when the HKR system answers 503 instead of retrying"},
	{"wrong-kassenzeichen", "books under the payment's transactionId instead of its transactionReference (Kassenzeichen)"},
	{"book-failed-payment", "sends a paid Anordnung for a payment with status FAILED"},
	{"book-initial-payment", "sends a paid Anordnung for a payment with status INITIAL (the payment has not happened)"},
	{"book-canceled-payment", "sends a paid Anordnung for a payment with status CANCELED"},
	{"amounts-without-trailing-zeros", "writes brutto and gesamtbetrag in their shortest decimal form (0.1, 4711) instead of with exactly two fraction digits"},
	{"rebook-on-redelivery", "appends a new Anordnung each time an accepted submission is handed to booking again (decision post failed, redelivery) instead of keeping the one it has"},
	{"swallow-hkr-rejection", "takes any 200 answer of the HKR system as booked without reading kennzeichenOK, so refusals and their fehlertext are lost"},
	{"anordnungsdatum-as-datetime", "writes anordnungsDatum and faelligkeit as RFC 3339 date-times where XFinanz wants xs:date"},
	{"gap-in-apnummer", "numbers Anordnung positions from its transfer counter, which runs on across Anordnungen, instead of gaplessly from 1 in each"},
	{"skip-hash-check", "does not compare the SHA-512 of data and attachments with the metadata hashes"},
	{"skip-metadata-schema-check", "does not validate the metadata against the metadata JSON schema"},
	{"skip-data-schema-check", "does not check the data against its submission schema (well-formedness, root element, namespace, XSD)"},
	{"skip-data-xsd-validation", "checks the data's well-formedness, root element and namespace, but does not validate it against the XSD of its submission schema"},
	{"xsd-by-root-element", "validates the data against the XSD of the schema its root element belongs to instead of the declared submission schema; data whose root belongs to no schema it knows passes unchecked"},
	{"syntax-as-schema-violation", "reports data that is not well-formed XML as schema-violation instead of syntax-violation"},
	{"skip-attachment-consistency-check", "does not compare the attachments of the metadata with those of the submission"},
	{"accept-wrong-authentication-tags", "sends accept-submission with the authentication tags of metadata and data swapped"},
	{"reject-wrong-problem-type", "sends reject-submission with a generic problem type and instance instead of the precise ones"},
	{"store-rejected-as-case", "creates a case for a rejected submission"},
	{"trust-forged-events", "does not verify the signatures of the delivery service's SETs in the event log"},
	{"callback-no-hmac-check", "accepts callbacks without checking the callback-authentication HMAC"},
	{"callback-stale-timestamp-accepted", "accepts callbacks whose callback-timestamp is more than 5 minutes off"},
	{"callback-ignored", "verifies callbacks and answers 200 but does not fetch the announced submissions: they wait for the next scheduled poll"},
	{"dedupe-by-message-uuid", "takes a submission whose XBau nachrichtenUUID it has seen before for a duplicate: accepts it but creates no case"},
	{"no-dedupe-on-redelivery", "processes a redelivered submission again and creates a second case"},
	{"first-page-only", "reads only the first page of the submission list"},
	{"page-by-limit", "asks for pages of 3 and steps the offset by that limit instead of by the count answered, so a server that caps pages smaller makes it skip submissions"},
	{"skip-authentication-tag-check", "does not compare the authentication tags of the JWEs with those of the submit-submission event"},
	{"data-hash-mismatch-as-submission", "rejects data whose SHA-512 differs from the metadata hash with problem hash-mismatch, but names instance \"submission\" instead of \"data\""},
	{"forget-decision-on-dropped-post", "takes a decision post whose connection dropped without an answer for a transaction that never happened: clears the submission's processed mark, keeps the case it filed, and processes the submission, listed again, as a new one (a second case); a refused post (HTTP status) or a crash during the post it handles correctly"},
	{"skip-data-hash-check", "compares the SHA-512 of the attachments with the metadata, but not that of the data"},
	{"skip-attachment-hash-check", "compares the SHA-512 of the data with the metadata, but not those of the attachments"},
	{"skip-gcm-tag-check", "decrypts the data's A256GCM content without verifying its authentication tag, so altered ciphertext becomes altered plaintext instead of an encryption-issue"},
	{"unwrap-failure-as-technical-error", "reports data whose content key does not unwrap with the destination's key as technical-error instead of encryption-issue"},
	{"accept-any-metadata-version", "does not check the metadata's $schema against the metadata versions it supports"},
	{"ignore-missing-attachment", "does not notice an attachment the metadata lists but the submission lacks"},
	{"accept-unlisted-attachment", "does not notice an attachment of the submission that the metadata does not list"},
	{"orphan-case-on-reject", "files a case for a rejected submission in its case list, though the submission's record shows none"},
	{"callback-no-route", "serves no callback route: the callback path answers 404"},
	{"callback-fetch-named-submissions", "on a valid callback fetches every submission the callback names, before checking that it belongs to its destination"},
	{"accept-unsupported-service", "accepts submissions for services the destination does not serve"},
	{"accept-unsupported-schema", "accepts data of submission schemas or MIME types it does not support"},
	{"drop-optional-element", "its field mapping lacks the optional suffix elements (local names ending in \"zusatz\") and drops them"},
	{"unicode-normalize", "NFC-normalises stored field values"},
	{"nfd-names-only", "NFD-normalises (decomposes) the stored values of person names (…/name/…) and of nothing else"},
	{"nfd-free-text", "NFD-normalises (decomposes) the stored values of free-text paragraphs (textabsatz) and of nothing else"},
	{"nfc-attachment-filenames", "NFC-normalises the stored file names of attachments; fields stay as sent"},
	{"latin1-roundtrip", "stores field values through a Latin-1 column: characters outside Latin-1 become '?'"},
	{"truncate-long-text", "cuts stored field values at 255 characters"},
	{"first-applicant-only", "stores only the first of several applicants (antragsteller)"},
	{"store-pdf-only", "stores only the PDF attachments and no fields"},
	{"lose-attachments-after-10", "stores only the first 10 attachments of a submission"},
	{"lose-large-attachment", "drops attachments larger than 32 MiB"},
	{"drop-codelist-attributes", "drops the code-list attributes listURI and listVersionID of coded values; the codes stay"},
	{"latin1-free-text", "stores free-text paragraphs (textabsatz) through a Latin-1 column: characters outside Latin-1 become '?'; names and other fields stay as sent"},
	{"first-anzeigender-only", "stores only the first of several applicants of a Genehmigungsfreistellung (anzeigender); several antragsteller it keeps"},
	{"raw-message-field", "keeps the whole XML message as one more field (rohnachricht) beside the fields"},
	{"lose-image-attachments", "drops attachments of an image MIME type (image/*)"},
	{"forget-on-503", "takes a 503 answer to its decision post for \"submission gone\" and clears the submission's processed mark: listed again, it becomes a second case"},
	{"mark-posted-before-post", "marks a decision posted when it stores it, before the post, and sets the mark back when the post fails, but not when a shutdown cuts the post off: after the restart the decision is never posted"},
	{"xta-first-page-only", "XTA: reads only the first page of the status list and does not follow ItemsPending with getNextStatusList"},
	{"xta-fetch-guessed-id", "XTA: after the listed messages also calls getMessage for a MessageID it made up (the last listed one counted up), to see whether more is waiting"},
	{"xta-close-before-store", "XTA: closes a message right after getMessage and stores it a second later"},
	{"xta-close-constant-request-id", "XTA: closes with MsgBoxRequestID \"1\" instead of the MsgBoxRequestID of the getMessage answer that delivered the message"},
	{"xta-close-untaken", "XTA: leaves a listed message for another reader unfetched but closes it (with the list's MsgBoxRequestID)"},
	{"xta-no-dedupe-message-id", "XTA: knows a MessageID only until it closed the message: offered again afterwards under the same MessageID, the message makes a second case"},
	{"xta-no-dedupe-nachrichten-uuid", "XTA: does not look up the XÖV nachrichtenUUID: the same message under a new MessageID makes a second case"},
	{"xta-ignore-reader", "XTA: does not check Destinations/Reader before taking a message: fetches messages for another reader and makes cases of them"},
	{"xta-ignore-message-type", "XTA: does not check the MessageType against its services and validates the payload by its root element: a valid XBau document under an unserved MessageType becomes a case"},
	{"xta-no-wsa-to", "XTA: sends checkAccountActive without wsa:To (its other requests carry it)"},
	{"xta-plain-soap", "XTA: sends its SOAP requests as plain application/soap+xml instead of MTOM/XOP"},
	{"xta-no-cert-on-management", "XTA: calls checkAccountActive at the ManagementPort without its client certificate"},
	{"xta-trust-any-server", "XTA: accepts any server certificate instead of only those chaining to KONFORM_XTA_CA"},
	{"xta-stop-on-no-message", "XTA: takes NoMessageAvailable in a getNextStatusList answer (RequestIdInvalid) for a broken mailbox and stops polling for twice its interval plus 15 s"},
	{"xta-drop-on-technical-fault", "XTA: gives a message up for good after XTAWSTechnicalProblem on its getMessage: never fetched again, no case"},
	{"xta-retry-permission-denied", "XTA: repeats a getMessage refused with PermissionDenied, InvalidMessageID or ParameterIsNotValid twice more at once, in the same round"},
	{"xta-store-invalid", "XTA: does not validate the payload against its XBau schema: a schema-invalid message becomes a case, without Rückweisung"},
	{"xta-no-rueckweisung", "XTA: rejects a schema-invalid payload (rejected record, message closed) but sends no Rückweisung 1100 to its author"},
	{"xta-leave-invalid-open", "XTA: rejects a schema-invalid payload with a Rückweisung but never closes the message"},
	{"xta-forget-fetched-on-restart", "XTA: keeps the MessageIDs it stored but has not closed yet in memory only: after a restart between store and close, the message offered again makes a second case"},
}

// xtaPrefix starts the name of every defect of the XTA reader.
const xtaPrefix = "xta-"

// TransportOf names the transport whose part of the reference the defect breaks: the XTA
// reader's defects carry the prefix xta-, every other defect lives in the FIT-Connect intake,
// the booking or the probe. The self-test runs a defect against the checks of its transport.
func TransportOf(name string) string {
	if strings.HasPrefix(name, xtaPrefix) {
		return contract.TransportXTA
	}
	return contract.TransportFitConnect
}

// Set is the set of defects switched on.
type Set map[string]bool

// Parse reads a comma-separated list such as KONFORM_REFERENCE_DEFECTS and rejects unknown names.
func Parse(list string) (Set, error) {
	s := Set{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !Known(name) {
			return nil, fmt.Errorf("unknown defect %q (known: %s)", name, strings.Join(Names(), ", "))
		}
		s[name] = true
	}
	return s, nil
}

// On reports whether the named defect is switched on.
func (s Set) On(name string) bool { return s[name] }

// Known reports whether name is a defect of the reference.
func Known(name string) bool {
	for _, d := range All {
		if d.Name == name {
			return true
		}
	}
	return false
}

// Names returns all defect names, sorted.
func Names() []string {
	out := make([]string, 0, len(All))
	for _, d := range All {
		out = append(out, d.Name)
	}
	sort.Strings(out)
	return out
}
