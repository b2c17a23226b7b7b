package intake

import "testing"

func TestPayerFamilyNameIsTheFirstNaturalApplicant(t *testing.T) {
	fields := map[string]string{
		"baugenehmigung.antrag.0200/antragsteller[2]/natuerlichePerson/name/familienname/name": "Øvergaard",
		"baugenehmigung.antrag.0200/antragsteller[1]/natuerlichePerson/name/familienname/name": "Müller",
		"baugenehmigung.antrag.0200/bauherr/natuerlichePerson/name/familienname/name":          "Bauer",
	}
	if got := payerFamilyName(fields); got != "Müller" {
		t.Errorf("payer = %q, want Müller", got)
	}
	if got := payerFamilyName(map[string]string{"x/antragsteller/organisation/name": "GmbH"}); got != "" {
		t.Errorf("an organisation has no family name, got %q", got)
	}
}
