package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/schemas"
)

const fixturesUsage = `usage:
  conformance fixtures list [--dir DIR]
  conformance fixtures validate [--schemas DIR] [--dir DIR]

--dir      fixture corpus (default: the built-in fixtures/xoev)
--schemas  folder holding the official schema sets, e.g. xbau-2.3.1/xsd_dev/... (default: $KONFORM_SPECS,
           ../shared/specs beside the source tree, or the folder "conformance schemas fetch" fills)
exit codes: 0 all valid, 1 invalid fixture, 2 usage error
`

// runFixtures handles "conformance fixtures ...".
func runFixtures(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, fixturesUsage)
		return 2
	}
	switch args[0] {
	case "list":
		return fixturesList(args[1:], stdout, stderr)
	case "validate":
		return fixturesValidate(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, fixturesUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "fixtures: unknown verb %q\n%s", args[0], fixturesUsage)
		return 2
	}
}

func fixtureFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("fixtures "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, fixturesUsage) }
	return fs, fs.String("dir", "", "fixture corpus directory")
}

func parseFixtureFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// loadCorpus resolves --dir and loads it; a missing directory is a usage error (2), a broken
// fixture an invalid one (1).
func loadCorpus(dir string, stderr io.Writer) ([]fixtures.Fixture, int) {
	if dir == "" {
		d, err := fixtures.Default()
		if err != nil {
			fmt.Fprintf(stderr, "fixtures: %v\n", err)
			return nil, 2
		}
		dir = d
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "fixtures: --dir %s is not a directory\n", dir)
		return nil, 2
	}
	all, err := fixtures.Load(dir)
	if err != nil {
		printJoined(stderr, err)
		return nil, 1
	}
	return all, 0
}

func printJoined(w io.Writer, err error) {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		for _, e := range j.Unwrap() {
			printJoined(w, e)
		}
		return
	}
	fmt.Fprintln(w, err)
}

func fixturesList(args []string, stdout, stderr io.Writer) int {
	fs, dir := fixtureFlags("list", stderr)
	if err := parseFixtureFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "fixtures list: %v\n", err)
		return 2
	}
	all, code := loadCorpus(*dir, stderr)
	if code != 0 {
		return code
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTANDARD\tVERSION\tMESSAGE TYPE\tSCHEMA URI\tFEE\tATTACHMENTS\tEXERCISES")
	for _, f := range all {
		m := f.Manifest
		fee := "-"
		if m.Fee != nil {
			fee = m.Fee.String()
		}
		if m.Payment != nil {
			fee += " (" + m.Payment.Status + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Standard, m.Version, m.MessageType, m.SchemaURI,
			fee, strconv.Itoa(len(m.Attachments)), strings.Join(m.Exercises, ","))
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "fixtures list: %v\n", err)
		return 1
	}
	return 0
}

func fixturesValidate(args []string, stdout, stderr io.Writer) int {
	fs, dir := fixtureFlags("validate", stderr)
	specs := fs.String("schemas", "", "folder holding the official schema sets")
	if err := parseFixtureFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "fixtures validate: %v\n", err)
		return 2
	}
	if *specs == "" {
		*specs = defaultSchemas()
	}
	if *specs == "" {
		fmt.Fprintf(stderr, "fixtures validate: --schemas DIR is required (or fetch them: conformance schemas fetch)\n%s", fixturesUsage)
		return 2
	}
	if st, err := os.Stat(*specs); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "fixtures validate: --schemas %s is not a directory\n", *specs)
		return 2
	}
	all, code := loadCorpus(*dir, stderr)
	if code != 0 {
		return code
	}
	// A schema the folder lacks means --schemas points at the wrong place: a usage error.
	for _, f := range all {
		for _, p := range schemaPaths(*specs, f.Manifest) {
			if _, err := os.Stat(p); err != nil {
				fmt.Fprintf(stderr, "fixtures validate: %s needs %s, not found under --schemas %s\n", f.Manifest.ID, p, *specs)
				return 2
			}
		}
	}
	invalid := 0
	for _, f := range all {
		errs, err := validateFixture(*specs, f)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", f.Manifest.ID, err)
			return 2
		}
		if len(errs) > 0 {
			invalid++
			for _, e := range errs {
				fmt.Fprintln(stdout, e.String())
			}
			continue
		}
		fmt.Fprintf(stdout, "ok  %s\n", f.Manifest.ID)
	}
	fmt.Fprintf(stdout, "%d fixtures, %d invalid\n", len(all), invalid)
	if invalid > 0 {
		return 1
	}
	return 0
}

func schemaPaths(specs string, m fixtures.Manifest) []string {
	var out []string
	if m.XSD != "" {
		out = append(out, filepath.Join(specs, filepath.FromSlash(m.XSD)))
	}
	if m.JSONSchema != "" {
		out = append(out, filepath.Join(specs, filepath.FromSlash(m.JSONSchema)))
	}
	return out
}

// validateFixture checks the data against the manifest's schema: XSD for XML data, JSON Schema
// for JSON data.
func validateFixture(specs string, f fixtures.Fixture) ([]schemas.Error, error) {
	path := filepath.Join(f.Dir, f.Manifest.Data)
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	isJSON := strings.Contains(f.Manifest.DataMimeType, "json") || strings.HasSuffix(f.Manifest.Data, ".json")
	var errs []schemas.Error
	switch {
	case isJSON && f.Manifest.JSONSchema != "":
		errs, err = schemas.ValidateJSON(filepath.Join(specs, filepath.FromSlash(f.Manifest.JSONSchema)), doc)
	case !isJSON && f.Manifest.XSD != "":
		errs, err = schemas.ValidateXML(filepath.Join(specs, filepath.FromSlash(f.Manifest.XSD)), doc)
	default:
		return []schemas.Error{{File: path, Message: "no schema for this data type in the manifest (xsd for XML, jsonSchema for JSON)"}}, nil
	}
	for i := range errs {
		errs[i].File = path
	}
	return errs, err
}
