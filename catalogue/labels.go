package catalogue

// Labels are the Ginkgo labels of the requirement's check: its test ID, its level and its
// profiles. A label filter selects a check by them.
func (r Requirement) Labels() []string {
	return append([]string{r.ID, r.Level}, r.Profiles...)
}

// Select returns the test IDs whose labels match, sorted.
func (c *Catalogue) Select(match func(labels []string) bool) []string {
	var out []string
	for _, id := range c.IDs() {
		if match(c.byID[id].Labels()) {
			out = append(out, id)
		}
	}
	return out
}
