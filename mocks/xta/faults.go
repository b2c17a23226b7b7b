package xta

import (
	"fmt"
	"slices"

	wire "github.com/konform/konform/xta"
)

// Fault kinds.
const (
	FaultTechnical        = "technical"          // XTAWSTechnicalProblemException (9030 unless Code)
	FaultPermission       = "permission"         // PermissionDeniedException (9012 unless Code)
	FaultInvalidID        = "invalid-id"         // InvalidMessageIDException 9070
	FaultRequestIDInvalid = "request-id-invalid" // getStatusList/getNextStatusList: NoMessageAvailable RequestIdInvalid
	FaultReset            = "reset"              // connection cut without an answer
	FaultDelay            = "delay"              // answer normally after DelayMS
)

// Fault is an injected fault: the next Count calls of Operation (that name MessageID, when
// set) get it.
type Fault struct {
	// Operation is the WSDL operation name, e.g. "getMessage"; "" or "*" is every operation.
	Operation string `json:"operation"`
	Kind      string `json:"kind"`
	// MessageID scopes the fault to calls naming it (selector, LastMsgReceived, body).
	MessageID string `json:"messageId,omitempty"`
	// Count is how many calls get the fault: 0 is one, negative is every call.
	Count int `json:"count"`
	// DelayMS is the hold of a delay fault.
	DelayMS int `json:"delayMs,omitempty"`
	// Code overrides the error code of technical and permission faults.
	Code string `json:"code,omitempty"`
	// Used counts the calls that got it.
	Used int `json:"used"`
}

func (f *Fault) validate() error {
	switch f.Kind {
	case FaultTechnical, FaultPermission, FaultInvalidID, FaultReset:
	case FaultDelay:
		if f.DelayMS <= 0 {
			return fmt.Errorf("delay fault needs delayMs > 0")
		}
	case FaultRequestIDInvalid:
		if f.Operation != wire.OpGetStatusList.Name && f.Operation != wire.OpGetNextStatusList.Name {
			return fmt.Errorf("request-id-invalid applies to getStatusList or getNextStatusList, not %q", f.Operation)
		}
	default:
		return fmt.Errorf("unknown fault kind %q (technical, permission, invalid-id, request-id-invalid, reset, delay)", f.Kind)
	}
	if f.Operation != "" && f.Operation != "*" {
		if _, ok := wire.OperationNamed(f.Operation); !ok {
			return fmt.Errorf("unknown operation %q", f.Operation)
		}
	}
	if f.Code != "" && wire.CodeName(f.Code) == "" {
		return fmt.Errorf("unknown error code %q", f.Code)
	}
	if f.Count == 0 {
		f.Count = 1
	}
	return nil
}

// takeFault returns the first armed fault matching the call and counts it used.
func (s *Server) takeFault(op string, ids []string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Count >= 0 && f.Used >= f.Count {
			continue
		}
		if f.Operation != "" && f.Operation != "*" && f.Operation != op {
			continue
		}
		if f.MessageID != "" && !slices.Contains(ids, f.MessageID) {
			continue
		}
		f.Used++
		c := *f
		return &c
	}
	return nil
}
