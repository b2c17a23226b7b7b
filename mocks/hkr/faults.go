package hkr

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
)

// Fault kinds.
const (
	FaultUnavailable = "unavailable" // answer 503
	FaultTimeout     = "timeout"     // hold the request until the client gives up (or DelayMS), then drop it
	FaultReset       = "reset"       // close the connection without an answer
	FaultSlow        = "slow"        // wait DelayMS, then process normally
	FaultReject      = "reject"      // answer 200 with kennzeichenOK=false and Fehlertext
	// FaultBookedReset books the message, then closes the connection without an answer: the
	// booking is made and its acknowledgement is lost, whatever time-out the client uses.
	FaultBookedReset = "booked-reset"
)

// Fault is one injected misbehaviour. It applies to the next Count matching requests, or, with
// Count 0 and Probability > 0, to each matching request with that probability drawn from a
// generator seeded with Seed (reproducible runs).
type Fault struct {
	Kind        string  `json:"kind"`
	Count       int     `json:"count,omitempty"`
	Probability float64 `json:"probability,omitempty"`
	Seed        uint64  `json:"seed,omitempty"`
	DelayMS     int     `json:"delayMs,omitempty"`
	Fehlertext  string  `json:"fehlertext,omitempty"`
	// Match restricts the fault to messages with this Kassenzeichen or anordnungsNummerExtern;
	// empty matches every message.
	Match string `json:"match,omitempty"`
}

var faultKinds = []string{FaultUnavailable, FaultTimeout, FaultReset, FaultSlow, FaultReject, FaultBookedReset}

// Validate names what is wrong with f.
func (f Fault) Validate() error {
	if !slices.Contains(faultKinds, f.Kind) {
		return fmt.Errorf("fault kind %q unknown (known: %v)", f.Kind, faultKinds)
	}
	if f.Count < 0 {
		return fmt.Errorf("fault count %d is negative", f.Count)
	}
	if f.Probability < 0 || f.Probability > 1 {
		return fmt.Errorf("fault probability %v is outside [0,1]", f.Probability)
	}
	if f.Count == 0 && f.Probability == 0 {
		return fmt.Errorf("fault %s needs a count > 0 or a probability > 0", f.Kind)
	}
	if f.DelayMS < 0 {
		return fmt.Errorf("fault delayMs %d is negative", f.DelayMS)
	}
	if f.Kind == FaultSlow && f.DelayMS == 0 {
		return fmt.Errorf("fault slow needs delayMs > 0")
	}
	return nil
}

type activeFault struct {
	Fault
	left int
	rng  *rand.Rand
}

// faultSet hands out the fault, if any, for each request, in the order the faults were added.
type faultSet struct {
	mu     sync.Mutex
	faults []*activeFault
}

func (s *faultSet) add(f Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	af := &activeFault{Fault: f, left: f.Count}
	if f.Count == 0 {
		af.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	}
	s.faults = append(s.faults, af)
	return nil
}

func (s *faultSet) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *faultSet) clearMatching(match string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.faults[:0]
	for _, f := range s.faults {
		if f.Match != match {
			kept = append(kept, f)
		}
	}
	s.faults = kept
}

func (s *faultSet) list() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Fault{}
	for _, f := range s.faults {
		c := f.Fault
		if f.rng == nil {
			c.Count = f.left
		}
		out = append(out, c)
	}
	return out
}

// next returns the fault for a request whose messages carry keys (Kassenzeichen,
// anordnungsNummerExtern), consuming one of its count.
func (s *faultSet) next(keys []string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Match != "" && !slices.Contains(keys, f.Match) {
			continue
		}
		if f.rng != nil {
			if f.rng.Float64() < f.Probability {
				return f.Fault, true
			}
			continue
		}
		f.left--
		if f.left <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return f.Fault, true
	}
	return Fault{}, false
}
