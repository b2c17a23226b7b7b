package ingest

import (
	"context"
	"fmt"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/konform/konform/runenv"
)

// normalisedTo names the Unicode form stored differs from sent by, or "" when stored is sent byte
// for byte or differs from it by more than normalisation (that is for IN-FLD-010 to judge).
func normalisedTo(sent, stored string) string {
	if stored == sent || norm.NFC.String(stored) != norm.NFC.String(sent) {
		return ""
	}
	switch {
	case norm.NFC.IsNormalString(stored):
		return "NFC"
	case norm.NFD.IsNormalString(stored):
		return "NFD"
	default:
		return "another canonically equivalent form"
	}
}

// judgeNormalisation pushes the fixtures and fails when a stored value — a field with non-ASCII
// characters or an attachment's file name — differs from what was sent only by Unicode
// normalisation, in either direction.
func judgeNormalisation(ctx context.Context, env *runenv.Env, ids ...string) {
	var failures []string
	fieldsJudged, namesJudged := 0, 0
	for _, t := range transports(env) {
		for _, d := range pushOver(ctx, env, t, ids...) {
			if msg := d.problem(); msg != "" {
				failures = append(failures, over(t)+": "+msg)
				continue
			}
			id := d.fixture.Manifest.ID
			var found []string
			for p, want := range d.fixture.Expected.Fields {
				got, ok := d.record.Fields[p]
				if isASCII(want) || !ok {
					continue
				}
				fieldsJudged++
				if form := normalisedTo(want, got); form != "" {
					found = append(found, fmt.Sprintf("field %s normalised to %s: stored %s, sent %s", p, form, show(got), show(want)))
				}
			}
			for _, want := range d.fixture.Expected.Attachments {
				if isASCII(want.Filename) {
					continue
				}
				for _, got := range d.record.Attachments {
					if got.SHA512 != want.SHA512 || got.Size != want.Size || got.Filename == "" {
						continue
					}
					namesJudged++
					if form := normalisedTo(want.Filename, got.Filename); form != "" {
						found = append(found, fmt.Sprintf("attachment file name normalised to %s: stored %s, sent %s", form, show(got.Filename), show(want.Filename)))
					}
					break
				}
			}
			if len(found) == 0 {
				AddReportEntry("normalisation "+id+" "+over(t), "no stored value differs from the sent one by Unicode normalisation")
				continue
			}
			sort.Strings(found)
			failures = append(failures, fmt.Sprintf("%s: fixture %s: %d values stored Unicode-normalised:\n  %s", over(t), id, len(found), strings.Join(found, "\n  ")))
		}
	}
	AddReportEntry("judged", fmt.Sprintf("%d non-ASCII fields and %d non-ASCII attachment file names", fieldsJudged, namesJudged))
	if len(failures) > 0 {
		Fail(strings.Join(failures, "\n\n"))
	}
	if fieldsJudged == 0 {
		Fail(fmt.Sprintf("the SUT stored none of the non-ASCII fields of fixtures %s: whether it normalises them cannot be judged", strings.Join(ids, ", ")))
	}
}
