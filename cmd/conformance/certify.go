package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/konform/konform/attest"
	"github.com/konform/konform/catalogue"
	"github.com/konform/konform/certificate"
	"github.com/konform/konform/digest"
	"github.com/konform/konform/probe"
	"github.com/konform/konform/report"
	"github.com/konform/konform/report/htmlreport"
)

// certifiable refuses the flags a certification run cannot have: a certificate covers every
// check of the named profiles, is bound to a product's build and carries a signature.
func (o runOptions) certifiable() error {
	if o.signKey != "" {
		if _, err := attest.LoadPrivateKey(o.signKey); err != nil {
			return usageError{fmt.Sprintf("--sign-key: %v", err)}
		}
	}
	if !o.certify {
		return nil
	}
	switch {
	case o.labelFilter != "":
		return usageError{"--certify runs every check of the named profiles; --label-filter would leave checks out"}
	case len(o.defects) > 0:
		return usageError{"--certify certifies a product; --reference-defects breaks the built-in reference on purpose"}
	case o.signKey == "":
		return usageError{"--certify needs --sign-key KEY: a certificate names the signed attestation that proves it (`conformance keys generate --out DIR`)"}
	}
	return nil
}

// schemaFolders are the parts of the official schema set a run reads.
var schemaFolders = []string{"fit-connect", "xbau-2.3.1/xsd_dev", "xfinanz-3.1.0"}

// describeRun adds to meta what a certificate and an attestation state: the kit's revision,
// the SUT as its probe describes itself, what the verdict is bound to, the standards tested and
// the digests of the kit's inputs.
func describeRun(ctx context.Context, o runOptions, st *stage, meta *report.Meta) error {
	meta.KitRevision = kitRevision()
	meta.Certify = o.certify
	if info, err := probe.New(st.sut.ProbeURL()).Info(ctx); err == nil {
		meta.Product, meta.ProductVersion, meta.Vendor = info.Product, info.ProductVersion, info.Vendor
	}
	b, err := st.sut.Binding(ctx)
	if err != nil {
		return err
	}
	meta.SUTBinding, meta.SUTImage, meta.SUTDigest = b.Kind, b.Image, b.Digest
	for _, s := range catalogue.Standards(o.profiles) {
		meta.Standards = append(meta.Standards, report.Standard{Name: s.Name, Version: s.Version})
	}
	fx, err := digest.Tree(st.env.FixturesDir)
	if err != nil {
		return fmt.Errorf("the fixtures' digests: %w", err)
	}
	var folders []string
	for _, f := range schemaFolders {
		if _, err := os.Stat(o.schemas + "/" + f); err == nil {
			folders = append(folders, f)
		}
	}
	schemas, err := digest.Tree(o.schemas, folders...)
	if err != nil {
		return fmt.Errorf("the schemas' digests: %w", err)
	}
	meta.Inputs = &report.Inputs{Catalogue: catalogue.Builtin().Digest(), Fixtures: digest.OfTree(fx), Schemas: schemas}
	return nil
}

// kitRevision is the VCS revision the kit was built from ("+dirty" for a modified tree), or
// the module version it was installed as.
func kitRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		return ""
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// notCertifiable says why a finished certification run yields no certificate, or "".
func notCertifiable(s report.Summary) string {
	// The first failure explains more than the checks it left unrun.
	for _, state := range []string{report.Failed, report.KitError, report.Skipped, report.NotRun} {
		for _, v := range s.Verdicts {
			if v.Verdict == state && (v.Level != catalogue.SHOULD || v.Verdict != report.Failed) {
				return fmt.Sprintf("%s is %s, and a certificate needs every check run and every MUST check passed", v.ID, v.Verdict)
			}
		}
	}
	if s.Verdict != report.Passed {
		return fmt.Sprintf("the verdict is %s", s.Verdict)
	}
	return ""
}

// finishReports writes what a run's readers beyond CI use, after the summary: report.html
// always; with --certify the verdict on certifiability and, for a certifiable run,
// certificate.pdf; with --sign-key the signed attestation over every file of the report.
// The order matters: the certificate names the attestation's predicate digest, and the
// attestation binds every file written before it, the certificate included.
func finishReports(o runOptions, sum report.Summary, written types.Report, stderr io.Writer) (report.Summary, error) {
	if o.certify {
		sum.Meta.NotCertifiable = notCertifiable(sum)
		if sum.Meta.NotCertifiable == "" {
			if err := certificate.Certifiable(sum); err != nil {
				sum.Meta.NotCertifiable = err.Error()
			}
		}
		if err := report.WriteSummary(filepath.Join(o.out, report.SummaryFile), sum); err != nil {
			return sum, err
		}
	}
	if _, err := htmlreport.Write(o.out, sum, written); err != nil {
		return sum, fmt.Errorf("writing report.html: %w", err)
	}
	pred := attest.NewPredicate(sum)
	if o.certify {
		if sum.Meta.NotCertifiable != "" {
			fmt.Fprintf(stderr, "conformance run: no certificate: %s\n", sum.Meta.NotCertifiable)
		} else {
			d, err := pred.Digest()
			if err != nil {
				return sum, err
			}
			verify := fmt.Sprintf("conformance verify --key konform.pub %s", o.out)
			if err := certificate.Write(filepath.Join(o.out, certificate.File), sum, d, verify); err != nil {
				return sum, fmt.Errorf("writing the certificate: %w", err)
			}
		}
	}
	if o.signKey != "" {
		if err := attest.SignWithKeyFile(o.out, pred, o.signKey); err != nil {
			return sum, fmt.Errorf("signing the report: %w", err)
		}
	}
	for _, f := range []string{"report.html", certificate.File, attest.AttestationFile} {
		if _, err := os.Stat(filepath.Join(o.out, f)); err == nil {
			sum.Files = append(sum.Files, filepath.Join(o.out, f))
		}
	}
	return sum, nil
}
