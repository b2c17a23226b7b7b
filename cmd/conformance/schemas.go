package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/konform/konform/specs"
	"github.com/konform/konform/specs/fetch"
)

const schemasUsage = `usage:
  conformance schemas fetch [--dir DIR] [--manifest FILE]
  conformance schemas manifest

fetch downloads the official schema files from the URLs of a manifest (the built-in one, or
--manifest FILE: a vendor's mirror manifest in the same format, JSON or YAML), checks every file
against the manifest's SHA-256 before placing it, and replaces DIR in one rename with the layout
--schemas expects (fit-connect/, xbau-2.3.1/xsd_dev/, xfinanz-3.1.0/ …) and konform-schemas.json.
run, selftest and fixtures validate use the default DIR when --schemas is not given and
neither $KONFORM_SPECS nor ../shared/specs beside the source tree is there.
manifest prints the built-in manifest.

--dir       target folder (default: $XDG_DATA_HOME/konform/schemas, else ~/.local/share/konform/schemas)
--manifest  manifest file (default: the built-in manifest)
exit codes: 0 fetched, 2 usage error (flags, manifest, a folder fetch did not fill), 3 download or verification failed
`

// schemasDownloadTimeout bounds one download; the schema sets are a few MB.
const schemasDownloadTimeout = 5 * time.Minute

func cmdSchemas(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, schemasUsage)
		return exitUsage
	}
	switch args[0] {
	case "fetch":
		return schemasFetch(args[1:], stdout, stderr)
	case "manifest":
		if len(args) > 1 && (args[1] == "-h" || args[1] == "--help") {
			fmt.Fprint(stdout, schemasUsage)
			return exitPassed
		}
		if len(args) > 1 {
			fmt.Fprintf(stderr, "conformance schemas manifest: unexpected argument %q\n", args[1])
			return exitUsage
		}
		_, _ = stdout.Write(fetch.BuiltInBytes())
		return exitPassed
	case "-h", "--help", "help":
		fmt.Fprint(stdout, schemasUsage)
		return exitPassed
	}
	fmt.Fprintf(stderr, "conformance schemas: unknown verb %q\n\n%s", args[0], schemasUsage)
	return exitUsage
}

func schemasFetch(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("schemas fetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, schemasUsage) }
	userDir, _ := specs.UserDir()
	dir := fs.String("dir", userDir, "target folder")
	manifestFile := fs.String("manifest", "", "manifest file (default: the built-in manifest)")
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "conformance schemas fetch: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "conformance schemas fetch: no home folder to default to: pass --dir DIR")
		return exitUsage
	}
	m, source, err := loadManifest(*manifestFile)
	if err != nil {
		fmt.Fprintf(stderr, "conformance schemas fetch: %v\n", err)
		return exitUsage
	}
	if err := fetch.CheckTarget(*dir); err != nil {
		fmt.Fprintf(stderr, "conformance schemas fetch: --dir %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	client := &http.Client{Timeout: schemasDownloadTimeout}
	rec, err := fetch.Fetch(ctx, m, source, *dir, fetch.Options{Client: client, Check: specs.CheckLayout})
	if err != nil {
		fmt.Fprintf(stderr, "conformance schemas fetch: %v\nnothing was placed in %s\n", err, *dir)
		return exitEnvironment
	}
	fmt.Fprintf(stdout, "fetched %d files into %s (manifest %s, SHA-256 %s); record in %s\n",
		len(rec.Files), *dir, source, m.Digest(), fetch.RecordFile)
	if n := unconfirmed(m); n > 0 {
		fmt.Fprintf(stdout, "%d of %d manifest entries are not confirmed as the publisher's own download location (see each entry's note); the pins hold either way\n", n, len(m.Entries))
	}
	return exitPassed
}

func loadManifest(file string) (fetch.Manifest, string, error) {
	if file == "" {
		m, err := fetch.BuiltIn()
		return m, "built-in", err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fetch.Manifest{}, "", fmt.Errorf("--manifest: %w", err)
	}
	m, err := fetch.Parse(data)
	if err != nil {
		return fetch.Manifest{}, "", fmt.Errorf("--manifest %s: %w", file, err)
	}
	return m, file, nil
}

func unconfirmed(m fetch.Manifest) int {
	n := 0
	for _, e := range m.Entries {
		if !e.Confirmed {
			n++
		}
	}
	return n
}
