package catalogue

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed mock-rules.yaml
var mockRulesFile []byte

// MockRule is a rule the delivery-service mock applies beyond the Submission API's OpenAPI, or
// a reading it takes where the API leaves a choice open, with the passage it rests on.
type MockRule struct {
	Rule   string `yaml:"rule" json:"rule"`
	Where  string `yaml:"where" json:"where"`   // "<file>: <function>, …"
	Source string `yaml:"source" json:"source"` // document + section
}

// ParseMockRules reads a mock-rules document: a list of entries, each with rule, where and source.
func ParseMockRules(data []byte) ([]MockRule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var rules []MockRule
	if err := dec.Decode(&rules); err != nil {
		return nil, fmt.Errorf("mock rules: %w", err)
	}
	for i, r := range rules {
		if strings.TrimSpace(r.Rule) == "" || strings.TrimSpace(r.Where) == "" || strings.TrimSpace(r.Source) == "" {
			return nil, fmt.Errorf("mock rules: entry %d needs rule, where and source", i+1)
		}
	}
	return rules, nil
}

// MockRules returns the mock rules compiled into the kit (catalogue/mock-rules.yaml).
func MockRules() ([]MockRule, error) { return ParseMockRules(mockRulesFile) }
