// Package xta is the XTA 2 (Version 3) server mock: ManagementPort, MsgBoxPort and SendXtaPort
// over SOAP 1.2 with WS-Addressing and MTOM, mutual TLS on the SOAP ports, mailboxes the kit
// fills over the control API, and injected faults. It records; it never judges.
//
// Transport. One TCP port serves both: WrapListener peeks at each connection's first byte in a
// goroutine; a TLS handshake record (0x16) makes it TLS (the SOAP ports), anything else plain
// HTTP (the control API under /_konform/). SOAP over plain HTTP is answered 403 and recorded;
// the control API over TLS is answered 403 (the SUT's side). The TLS configuration is the one
// last set by Configure; until then handshakes fail. Failed handshakes never reach HTTP: they
// are kept under GET /_konform/xta/handshakes (time, remote address, error).
//
// Authentication (XTA.wsdl TransportBindingPolicy: HttpsToken RequireClientCertificate). The
// client certificate is requested and verified when given (tls.VerifyClientCertIfGiven): a
// certificate from another CA fails the handshake; a request without a certificate reaches the
// handler, is recorded ("no client certificate") and answered with PermissionDeniedException
// 9012 (Account nicht vorhanden: without a certificate there is no account), as is a valid
// certificate bound to no account. AddAccount binds a reader identity to a certificate; the
// mailbox a call sees is the one of that reader.
//
// SOAP (XTA.wsdl policy osciCommon). SOAP 1.2 only: text/xml or another media type is answered
// 415, a SOAP 1.1 envelope with a VersionMismatch fault. WS-Addressing is required: a request
// without wsa:Action, wsa:MessageID or wsa:To gets a Sender fault with subcode
// wsa:MessageAddressingHeaderRequired (detail wsa:ProblemHeaderQName, Action
// http://www.w3.org/2005/08/addressing/fault); a wsa:Action that is no operation of the port
// gets wsa:ActionNotSupported; a SOAP action (content type or SOAPAction header) that differs
// from wsa:Action, or a non-anonymous wsa:ReplyTo, gets wsa:InvalidAddressingHeader (reason
// ActionMismatch, OnlyAnonymousAddressSupported). wsa:To is required but not compared with the
// endpoint. Plain application/soap+xml requests are answered (GET /_konform/xta/calls shows
// mtom=false); the judges decide. Answers are MTOM with wsa:Action (the operation's),
// wsa:MessageID and wsa:RelatesTo. XTA exceptions travel as SOAP 1.2 faults under the
// operation's Action, code Receiver for XTAWSTechnicalProblemException and Sender otherwise,
// HTTP 400 for Sender and 500 for the rest (SOAP 1.2 Part 2 §7.5.2.2).
//
// Mailbox. getStatusList lists the caller's messages not yet closed (fetched ones included: in
// XTA 2 v3 a message counts as delivered only on close), at most min(maxListItems, PageSize),
// with ItemsPending for the rest under a fresh MsgBoxRequestID, or NoMessageAvailable NoMatch;
// getNextStatusList continues that iterator (unknown or exhausted: NoMessageAvailable
// RequestIdInvalid). getMessage delivers the first selected message (no selector: the first
// waiting) as MTOM parts with the MessageMetaData and MsgBoxResponse headers under a fresh
// MsgBoxRequestID; further selected messages wait for getNextMessage under that ID (none left:
// InvalidMessageIDException 9070). An unknown, foreign or closed MessageID is
// InvalidMessageIDException 9070. close marks the messages in LastMsgReceived closed (without
// LastMsgReceived: those delivered under the MsgBoxRequestID); each close records the ID used
// and whether the mock issued it for a response that delivered that message. Closing a message
// not fetched is InvalidMessageIDException 9070.
//
// Management and send. checkAccountActive answers an empty body for an account;
// createMessageId issues urn:de:xta:messageid:<uuid>; getTransportReport reports a message of
// the caller's mailbox (status 1 once closed, 0 before) or one it sent (1), else 9070;
// lookupService answers ServiceIsAvailable=true for every service (the mock keeps no service
// directory). sendMessage stores the MessageMetaData header and the content (MTOM parts or
// inline base64, streamed to disk) and refuses a MessageID already used with
// ParameterIsNotValidException 9024. cancelMessage and sendMessageSync are answered with
// XTAWSTechnicalProblemException 9030.
//
// Control API (plain HTTP; see Control): config, accounts, messages (Put as a streamed
// multipart/form-data upload; a MessageID already used is refused unless the offer sets
// ReuseMessageID, which offers the message again: pending, Offers+1), sent, faults,
// handshakes, calls, plus the shared health and exchanges endpoints. Each SOAP exchange is
// recorded with a note: the operation and what the mock made of it.
package xta
