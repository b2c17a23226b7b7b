package xta

import (
	"encoding/xml"
	"errors"
	"fmt"

	"github.com/konform/konform/soap"
)

// Exception element names (XTA-Webservice-Exceptions.xsd), the SOAP fault details of XTA.
const (
	ExcPermissionDenied       = "PermissionDeniedException"
	ExcTechnicalProblem       = "XTAWSTechnicalProblemException"
	ExcParameterIsNotValid    = "ParameterIsNotValidException"
	ExcMessageSchemaViolation = "MessageSchemaViolationException"
	ExcMessageVirusDetection  = "MessageVirusDetectionException"
	ExcSyncAsync              = "SyncAsyncException"
	ExcInvalidMessageID       = "InvalidMessageIDException"
	ExcCancelDenied           = "CancelDeniedException"
)

// ListFehlernummer is the code list of errorCode, version ListFehlernummerVersion.
const (
	ListFehlernummer        = "urn:de:xta:webservice:codeliste:fehlernummer"
	ListFehlernummerVersion = "1.0"
)

// Error codes (XTA-Webservice-Datentypen.xsd Codelist.Fehlernummer).
const (
	CodeUnspecified           = "9000"
	CodeCertificateExpired    = "9010"
	CodeAccountLocked         = "9011"
	CodeNoAccount             = "9012"
	CodeServiceNotBooked      = "9013"
	CodeCertificateNotSender  = "9014"
	CodeNoParameters          = "9020"
	CodeInvalidURI            = "9021"
	CodeInvalidParameterCombo = "9022"
	CodeMessageTooLarge       = "9023"
	CodeMessageIDUsed         = "9024"
	CodeInternalError         = "9030"
	CodeDirectoryError        = "9031"
	CodeDeliveryError         = "9032"
	CodeSchemaViolation       = "9050"
	CodeWrongEncoding         = "9051"
	CodeServiceProfile        = "9052"
	CodeMalware               = "9060"
	CodeUnknownMessageID      = "9070"
	CodeAsyncOnly             = "9080"
	CodeSyncOnly              = "9081"
	CodeNotBeforePassed       = "9100"
	CodeNotBeforeNotSet       = "9101"
)

type codeInfo struct{ name, exception string }

// codes maps each code to its name in the code list and the exception it belongs to.
var codes = map[string]codeInfo{
	"9000": {"Unspezifizierter Fehler", ""},
	"9010": {"Authentisierung/Zertifikat ist abgelaufen.", ExcPermissionDenied},
	"9011": {"Account ist gesperrt.", ExcPermissionDenied},
	"9012": {"Account nicht vorhanden.", ExcPermissionDenied},
	"9013": {"Dienst ist nicht gebucht.", ExcPermissionDenied},
	"9014": {"Authentisierung/Zertifikat passt nicht zur Absenderkennung.", ExcPermissionDenied},
	"9020": {"Keine Parameter vorhanden", ExcParameterIsNotValid},
	"9021": {"Keine gültige URI", ExcParameterIsNotValid},
	"9022": {"Ungültige Parameterkombination", ExcParameterIsNotValid},
	"9023": {"Die Nachricht überschreitet die Größenbeschränkung.", ExcParameterIsNotValid},
	"9024": {"MessageID ist bereits vergeben.", ExcParameterIsNotValid},
	"9030": {"Interner Fehler beim XTA-Server bzw. XTA-Dienstleister", ExcTechnicalProblem},
	"9031": {"Fehler beim externen Verzeichnisdienst", ExcTechnicalProblem},
	"9032": {"Fehler bei der Zustellung", ExcTechnicalProblem},
	"9050": {"Fachnachricht ist nicht schemakonform", ExcMessageSchemaViolation},
	"9051": {"Fachnachricht trägt ein falsches Encoding.", ExcMessageSchemaViolation},
	"9052": {"Nachricht verletzt das entsprechende Service Profil.", ExcMessageSchemaViolation},
	"9060": {"Es wurde schadhafter Code ermittelt.", ExcMessageVirusDetection},
	"9070": {"MessageID für den Account nicht bekannt.", ExcInvalidMessageID},
	"9080": {"Der Dienst wird nur asynchron angeboten.", ExcSyncAsync},
	"9081": {"Der Dienst wird nur synchron angeboten.", ExcSyncAsync},
	"9100": {"Der durch den Schalter NotBefore gesetzte Termin ist verstrichen.", ExcCancelDenied},
	"9101": {"Der Schalter NotBefore wurde nicht gesetzt.", ExcCancelDenied},
}

// CodeName is code's name in the code list; "" for an unknown code.
func CodeName(code string) string { return codes[code].name }

// CodeException is the exception element code belongs to ("" for 9000, which any may carry).
func CodeException(code string) string { return codes[code].exception }

// Exception is an XTA exception element: its name (Exc*) and errorCode.
type Exception struct {
	XMLName   xml.Name
	ErrorCode Code `xml:"http://xoev.de/transport/xta/211 errorCode"`
}

// NewException returns exception kind (Exc*) with code and its code-list name.
func NewException(kind, code string) *Exception {
	return &Exception{
		XMLName:   xml.Name{Space: NS, Local: kind},
		ErrorCode: Code{Code: code, Name: CodeName(code), ListURI: ListFehlernummer, ListVersionID: ListFehlernummerVersion},
	}
}

// Kind is the exception's element name.
func (e *Exception) Kind() string { return e.XMLName.Local }

// Fault wraps the exception in a SOAP 1.2 fault: Receiver for XTAWSTechnicalProblemException,
// Sender for the others (no XTA source fixes the code; the caller's fault is the sender's).
func (e *Exception) Fault(reason string) *soap.Fault {
	code := soap.CodeSender
	if e.Kind() == ExcTechnicalProblem {
		code = soap.CodeReceiver
	}
	if reason == "" {
		reason = e.Kind() + " " + e.ErrorCode.Code + ": " + e.ErrorCode.Name
	}
	detail, err := xml.Marshal(e)
	if err != nil {
		detail = nil
	}
	return &soap.Fault{Code: code, Reason: reason, Detail: soap.RawXML(detail)}
}

// Error is a SOAP fault an XTA server answered; Exception is its XTA exception, or nil when the
// fault carries none (e.g. a WS-Addressing fault).
type Error struct {
	Fault     *soap.Fault
	Exception *Exception
}

func (e *Error) Error() string {
	if e.Exception != nil {
		return fmt.Sprintf("xta: %s %s (%s): %s", e.Exception.Kind(), e.Exception.ErrorCode.Code, e.Exception.ErrorCode.Name, e.Fault.Reason)
	}
	return "xta: " + e.Fault.Error()
}

// Unwrap returns the SOAP fault.
func (e *Error) Unwrap() error { return e.Fault }

// FaultError returns the fault m carries as *Error, or nil when m is no fault.
func FaultError(m *soap.Message) error {
	if m == nil || m.Fault == nil {
		return nil
	}
	e := &Error{Fault: m.Fault}
	if n := m.Fault.DetailName(); n.Space == NS {
		var x Exception
		if err := m.Fault.DecodeDetail(&x); err == nil {
			e.Exception = &x
		}
	}
	return e
}

// IsException reports whether err is an XTA fault with exception kind and, when code is not
// "", that error code.
func IsException(err error, kind, code string) bool {
	var e *Error
	if !errors.As(err, &e) || e.Exception == nil {
		return false
	}
	return e.Exception.Kind() == kind && (code == "" || e.Exception.ErrorCode.Code == code)
}
