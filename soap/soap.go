// Package soap reads and writes SOAP 1.2 messages with WS-Addressing 1.0 headers, SOAP 1.2 faults
// and MTOM/XOP (multipart/related; type="application/xop+xml"). Parts stream: a writer copies them
// from readers or files, a reader spools every part above a threshold to a file, so a 40 MB message
// never sits in memory. It imports nothing of the kit's.
package soap

import "errors"

// Namespaces and media types.
const (
	NS    = "http://www.w3.org/2003/05/soap-envelope"   // SOAP 1.2 envelope
	NS11  = "http://schemas.xmlsoap.org/soap/envelope/" // SOAP 1.1, only to name it in errors
	NSWSA = "http://www.w3.org/2005/08/addressing"
	NSXOP = "http://www.w3.org/2004/08/xop/include"

	MediaSOAP      = "application/soap+xml"
	MediaXOP       = "application/xop+xml"
	MediaMultipart = "multipart/related"

	// WSAAnonymous is the anonymous ReplyTo address.
	WSAAnonymous = "http://www.w3.org/2005/08/addressing/anonymous"
	// WSAFaultAction is the wsa:Action of a WS-Addressing fault (WS-Addressing 1.0 SOAP Binding §6).
	WSAFaultAction = "http://www.w3.org/2005/08/addressing/fault"
	// RootContentID is the Content-ID this package gives the root part of an MTOM message.
	RootContentID = "root"
)

// Errors a reader returns, wrapped with detail; test them with errors.Is.
var (
	// ErrContentType: the media type is neither application/soap+xml nor multipart/related with
	// type="application/xop+xml" (text/xml is SOAP 1.1's).
	ErrContentType = errors.New("soap: unsupported content type")
	// ErrMultipart: a multipart/related body that cannot be read as MTOM.
	ErrMultipart = errors.New("soap: broken multipart/related body")
	// ErrNoRoot: the multipart body has no root part (start= names no part, or no parts at all).
	ErrNoRoot = errors.New("soap: missing root part")
	// ErrMissingPart: an xop:Include href names no part of the message.
	ErrMissingPart = errors.New("soap: missing xop part")
	// ErrNotEnvelope: the root is not a SOAP 1.2 envelope (not XML, another root element, or no Body).
	ErrNotEnvelope = errors.New("soap: not a SOAP 1.2 envelope")
	// ErrVersion: the root is a SOAP 1.1 envelope.
	ErrVersion = errors.New("soap: SOAP 1.1 envelope where SOAP 1.2 is required")
)
