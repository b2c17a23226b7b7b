package main

import (
	"fmt"
	"io"

	"github.com/konform/konform/attest"
)

const keysUsage = `usage:
  conformance keys generate --out DIR [--alg ed25519|ecdsa-p256]

generate makes the key pair that signs a run's report folder (run --sign-key DIR/konform.key):
DIR/konform.key, the private key (PKCS #8 PEM, readable by you only), and DIR/konform.pub, the
public key (PKIX PEM) a municipality verifies the folder with (conformance verify --key). It
never overwrites a key. Keep the private key out of the report folder and out of version control.

exit codes: 0 written, 2 usage error, 3 the files could not be written (or exist already)
`

// cmdKeys manages the keys that sign a run's attestation.
func cmdKeys(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return exitUsage
	}
	switch args[0] {
	case "generate":
		return keysGenerate(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, keysUsage)
		return exitPassed
	}
	fmt.Fprintf(stderr, "conformance keys: unknown verb %q\n\n%s", args[0], keysUsage)
	return exitUsage
}

func keysGenerate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("keys generate", "keys generate --out DIR [--alg ed25519|ecdsa-p256]")
	out := fs.String("out", "", "the `DIR` to write konform.key and konform.pub into (created if need be)")
	alg := fs.String("alg", attest.Ed25519, "the key algorithm `ALG`: "+attest.Ed25519+" or "+attest.ECDSAP256)
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return helpOrUsage(err)
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "conformance keys generate: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	case *out == "":
		fmt.Fprintln(stderr, "conformance keys generate: --out DIR is required")
		return exitUsage
	case *alg != attest.Ed25519 && *alg != attest.ECDSAP256:
		fmt.Fprintf(stderr, "conformance keys generate: --alg %q: use %s or %s\n", *alg, attest.Ed25519, attest.ECDSAP256)
		return exitUsage
	}
	priv, pub, err := attest.GenerateKeys(*out, *alg)
	if err != nil {
		fmt.Fprintf(stderr, "conformance keys generate: %v\n", err)
		return exitEnvironment
	}
	fmt.Fprintf(stdout, "private key: %s (keep it secret; sign with run --sign-key %s)\npublic key:  %s (hand it out; verify with conformance verify --key %s DIR)\n", priv, priv, pub, pub)
	return exitPassed
}
