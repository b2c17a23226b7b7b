package ingest

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/unicode/norm"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/fixtures"
)

// Limits that keep report entries and failure messages readable.
const (
	maxDiffBytes  = 6000
	maxMismatches = 8
	maxShownRunes = 60
)

// fieldFilter selects the expected fields a check is about.
type fieldFilter func(path, value string) bool

func allFields(string, string) bool { return true }

// fieldMismatch is one expected field the SUT did not store as it was sent.
type fieldMismatch struct {
	Path    string
	Want    string
	Got     string
	Present bool
}

// fieldComparison is the outcome of comparing a record's fields with the expected ones.
type fieldComparison struct {
	Checked    int
	Mismatches []fieldMismatch
	// Extra lists paths the SUT reports that the message does not have, as far as the
	// comparison judges them.
	Extra []string
	Diff  string
}

// compareFields compares the sent fields keep selects with the stored ones; values that differ
// only by Unicode normalisation count as stored (IN-FLD-020 judges that). Stored fields the
// message does not have count as wrong when extra selects them (nil: none does).
func compareFields(want, got map[string]string, keep, extra fieldFilter) fieldComparison {
	var c fieldComparison
	w := map[string]string{}
	g := map[string]string{}
	for p, v := range want {
		if !keep(p, v) {
			continue
		}
		c.Checked++
		w[p] = v
		gv, ok := got[p]
		if ok {
			g[p] = gv
		}
		if !ok || norm.NFC.String(gv) != norm.NFC.String(v) {
			c.Mismatches = append(c.Mismatches, fieldMismatch{Path: p, Want: v, Got: gv, Present: ok})
		}
	}
	for p, v := range got {
		if _, sent := want[p]; !sent && extra != nil && extra(p, v) {
			g[p] = v
			c.Extra = append(c.Extra, p)
		}
	}
	sort.Slice(c.Mismatches, func(i, j int) bool { return c.Mismatches[i].Path < c.Mismatches[j].Path })
	sort.Strings(c.Extra)
	c.Diff = clip(cmp.Diff(w, g), maxDiffBytes)
	return c
}

// ok reports whether the comparison found nothing wrong.
func (c fieldComparison) ok() bool { return len(c.Mismatches) == 0 && len(c.Extra) == 0 }

// summary is the readable excerpt for a failure message.
func (c fieldComparison) summary(fixtureID string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "fixture %s: %d of %d fields not stored as sent", fixtureID, len(c.Mismatches), c.Checked)
	if len(c.Extra) > 0 {
		fmt.Fprintf(&b, ", %d fields the message does not have", len(c.Extra))
	}
	for i, m := range c.Mismatches {
		if i == maxMismatches {
			fmt.Fprintf(&b, "\n  … and %d more", len(c.Mismatches)-maxMismatches)
			break
		}
		b.WriteString("\n  " + m.String())
	}
	for i, p := range c.Extra {
		if i == maxMismatches {
			fmt.Fprintf(&b, "\n  … and %d more unexpected fields", len(c.Extra)-maxMismatches)
			break
		}
		b.WriteString("\n  unexpected field " + p)
	}
	return b.String()
}

func (m fieldMismatch) String() string {
	if !m.Present {
		return fmt.Sprintf("%s: missing (sent %s)", m.Path, show(m.Want))
	}
	return fmt.Sprintf("%s: stored %s, sent %s", m.Path, show(m.Got), show(m.Want))
}

// show renders a value so that the difference is visible: length, normalisation form and, for
// short values with non-ASCII characters, the code points.
func show(s string) string {
	n := utf8.RuneCountInString(s)
	q := s
	if n > maxShownRunes {
		q = string([]rune(s)[:maxShownRunes]) + "…"
	}
	out := fmt.Sprintf("%q (%d characters, %d bytes", q, n, len(s))
	if !isASCII(s) {
		switch {
		case norm.NFC.IsNormalString(s) && norm.NFD.IsNormalString(s):
		case norm.NFC.IsNormalString(s):
			out += ", NFC"
		case norm.NFD.IsNormalString(s):
			out += ", NFD"
		default:
			out += ", neither NFC nor NFD"
		}
		if n <= 24 {
			out += ", " + codePoints(s)
		}
	}
	return out + ")"
}

func codePoints(s string) string {
	var parts []string
	for _, r := range s {
		if r > 0x7F {
			parts = append(parts, fmt.Sprintf("U+%04X", r))
		} else {
			parts = append(parts, string(r))
		}
	}
	return strings.Join(parts, " ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > 0x7F {
			return false
		}
	}
	return true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := s[:n]
	for !utf8.ValidString(cut) && len(cut) > 0 {
		cut = cut[:len(cut)-1]
	}
	return cut + fmt.Sprintf("\n… (%d more bytes)", len(s)-len(cut))
}

// storedContent identifies an attachment by what it holds.
type storedContent struct {
	SHA512 string
	Size   int64
}

// attachmentComparison is the outcome of comparing stored attachments with the sent ones.
type attachmentComparison struct {
	Missing []fixtures.ExpectedAttachment // sent, but no stored attachment has its hash and size
	Extra   []contract.Attachment         // stored, but nothing with that content was sent
	Diff    string
}

func (c attachmentComparison) ok() bool { return len(c.Missing) == 0 && len(c.Extra) == 0 }

// compareAttachments matches sent and stored attachments by SHA-512 and size, each stored one
// used once.
func compareAttachments(want []fixtures.ExpectedAttachment, got []contract.Attachment) attachmentComparison {
	var c attachmentComparison
	left := map[storedContent][]contract.Attachment{}
	for _, a := range got {
		k := storedContent{strings.ToLower(a.SHA512), a.Size}
		left[k] = append(left[k], a)
	}
	for _, a := range want {
		k := storedContent{a.SHA512, a.Size}
		if len(left[k]) == 0 {
			c.Missing = append(c.Missing, a)
			continue
		}
		left[k] = left[k][1:]
	}
	for _, rest := range left {
		c.Extra = append(c.Extra, rest...)
	}
	sort.Slice(c.Extra, func(i, j int) bool { return c.Extra[i].SHA512 < c.Extra[j].SHA512 })
	w := make([]storedContent, 0, len(want))
	for _, a := range want {
		w = append(w, storedContent{a.SHA512, a.Size})
	}
	g := make([]storedContent, 0, len(got))
	for _, a := range got {
		g = append(g, storedContent{strings.ToLower(a.SHA512), a.Size})
	}
	byContent := func(s []storedContent) {
		sort.Slice(s, func(i, j int) bool {
			return s[i].SHA512 < s[j].SHA512 || (s[i].SHA512 == s[j].SHA512 && s[i].Size < s[j].Size)
		})
	}
	byContent(w)
	byContent(g)
	c.Diff = clip(cmp.Diff(w, g), maxDiffBytes)
	return c
}

func (c attachmentComparison) summary(fixtureID string, sent, stored int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "fixture %s: %d attachments sent, %d stored; %d sent attachments not stored with their SHA-512 and size",
		fixtureID, sent, stored, len(c.Missing))
	for i, a := range c.Missing {
		if i == maxMismatches {
			fmt.Fprintf(&b, "\n  … and %d more", len(c.Missing)-maxMismatches)
			break
		}
		fmt.Fprintf(&b, "\n  missing %s (%d bytes, sha512 %s…)", a.Filename, a.Size, a.SHA512[:min(16, len(a.SHA512))])
	}
	for i, a := range c.Extra {
		if i == maxMismatches {
			fmt.Fprintf(&b, "\n  … and %d more stored attachments that were not sent", len(c.Extra)-maxMismatches)
			break
		}
		fmt.Fprintf(&b, "\n  stored %q (%d bytes, sha512 %s…) matches no sent attachment", a.Filename, a.Size, a.SHA512[:min(16, len(a.SHA512))])
	}
	return b.String()
}
