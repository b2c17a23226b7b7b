package fields

import "golang.org/x/text/unicode/norm"

// renormalisation normalises the values of the paths it selects to one Unicode form: a mapping
// that runs one kind of field through a normalising column or library.
type renormalisation struct {
	form norm.Form
	pick func(path string) bool
}

// WithNormalisedPaths normalises the values of the paths sel selects to form, and no others.
func WithNormalisedPaths(form norm.Form, sel func(path string) bool) Option {
	return func(m *Mapper) { m.renorm = append(m.renorm, renormalisation{form: form, pick: sel}) }
}

// renormalise applies the mapper's renormalisations to a mapped record.
func (m *Mapper) renormalise(out map[string]string) {
	for _, r := range m.renorm {
		for p, v := range out {
			if r.pick(p) {
				out[p] = r.form.String(v)
			}
		}
	}
}
