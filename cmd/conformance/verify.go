package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/konform/konform/attest"
)

const verifyUsage = `usage:
  conformance verify --key PUB DIR

verify checks a signed report folder offline: the signature of DIR/attestation.intoto.jsonl with
the public key PUB (PEM, from conformance keys generate), that no file in DIR changed, went
missing or was added since the run signed it, that each check's evidence in ginkgo-report.json
is the evidence signed, and that summary.json says what the attestation says. It prints the
product, version, vendor, verdict, date and SUT digest the attestation asserts.

exit codes: 0 verified, 1 verification failed (it names the file or the reason), 2 usage error
(no --key, no DIR, a key that cannot be read)
`

// cmdVerify verifies a signed report folder.
func cmdVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", "verify --key PUB DIR")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), verifyUsage+"\nflags:\n")
		printDefaults(fs)
	}
	key := fs.String("key", "", "the public key `PUB` (PEM) to verify the signature with")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return helpOrUsage(err)
	}
	rest := fs.Args()
	if len(rest) > 1 { // DIR before the flags: verify DIR --key PUB
		if err := parseFlags(fs, rest[1:], stdout, stderr); err != nil {
			return helpOrUsage(err)
		}
		rest = append(rest[:1:1], fs.Args()...)
	}
	switch {
	case *key == "":
		fmt.Fprintf(stderr, "conformance verify: --key PUB is required: the public key of whoever signed the run\n\n%s", verifyUsage)
		return exitUsage
	case len(rest) == 0:
		fmt.Fprintf(stderr, "conformance verify: DIR is required: the report folder to verify\n\n%s", verifyUsage)
		return exitUsage
	case len(rest) > 1:
		fmt.Fprintf(stderr, "conformance verify: unexpected argument %q: verify one folder at a time\n", rest[1])
		return exitUsage
	}
	dir := rest[0]
	pem, err := os.ReadFile(*key)
	if err != nil {
		fmt.Fprintf(stderr, "conformance verify: reading the public key: %v\n", err)
		return exitUsage
	}
	if _, err := attest.ParsePublicKey(pem); err != nil {
		fmt.Fprintf(stderr, "conformance verify: %s: %v\n", *key, err)
		return exitUsage
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		fmt.Fprintf(stderr, "conformance verify: %s is not a folder: DIR is the report folder of a signed run\n", dir)
		return exitUsage
	}
	res, err := attest.Verify(dir, pem)
	if err != nil {
		fmt.Fprintf(stderr, "conformance verify: %s FAILED verification:\n", dir)
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "  - %s\n", line)
		}
		return exitFailed
	}
	printAttestation(stdout, res)
	fmt.Fprintf(stdout, "signature: valid (key ID %s)\nfiles: %d verified\nchecks: %d, evidence verified\n", res.KeyID, res.Files, res.Checks)
	return exitPassed
}

func printAttestation(w io.Writer, r attest.Result) {
	or := func(s, none string) string {
		if s == "" {
			return none
		}
		return s
	}
	sut := or(r.SUT.Digest, "none")
	if r.SUT.Binding == attest.BindingSelfDeclared {
		sut = "none (self-declared SUT, given by URL: the verdict is bound to no build)"
	} else if r.SUT.Image != "" {
		sut += " (" + r.SUT.Image + ")"
	}
	fmt.Fprintf(w, "product: %s\nversion: %s\nvendor: %s\nverdict: %s\ndate: %s\nSUT digest: %s\nrun ID: %s\nattestation digest: %s\n",
		or(r.Product, "(not named)"), or(r.ProductVersion, "(not named)"), or(r.Vendor, "(not named)"), r.Verdict,
		or(r.FinishedAt, "(unknown)"), sut, or(r.RunID, "(none)"), r.PredicateDigest)
}
