package fields

import (
	"strings"
)

// Options that model faulty field mappings; the faithful mapping uses none of them.

// WithoutCodeListAttributes leaves out the code-list attributes listURI and listVersionID: a
// mapping that keeps a code but not the list it comes from.
func WithoutCodeListAttributes() Option {
	return withPost(func(out map[string]string, _ []byte) {
		for p := range out {
			if strings.HasSuffix(p, "/@listURI") || strings.HasSuffix(p, "/@listVersionID") {
				delete(out, p)
			}
		}
	})
}

// WithLatin1Paths stores the values of the paths sel selects through a Latin-1 column: other
// characters become '?'.
func WithLatin1Paths(sel func(path string) bool) Option {
	return withPost(func(out map[string]string, _ []byte) {
		for p, v := range out {
			if sel(p) {
				out[p] = strings.Map(func(r rune) rune {
					if r > 0xFF {
						return '?'
					}
					return r
				}, v)
			}
		}
	})
}

// WithRawMessage keeps the whole data as one more field, name below the root, beside the fields.
func WithRawMessage(name string) Option {
	return withPost(func(out map[string]string, data []byte) {
		root := ""
		for p := range out {
			root, _, _ = strings.Cut(p, "/")
			break
		}
		out[root+"/"+name] = string(data)
	})
}

func withPost(f func(out map[string]string, data []byte)) Option {
	return func(m *Mapper) { m.post = append(m.post, f) }
}

func (m *Mapper) postProcess(out map[string]string, data []byte) {
	for _, f := range m.post {
		f(out, data)
	}
}
