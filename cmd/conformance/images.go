package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/konform/konform/runtime"
	"github.com/konform/konform/specs"
)

const imagesUsage = `usage:
  conformance images build [--schemas DIR] [--reference-tag TAG]
  conformance images save --output FILE
  conformance images load --input FILE
  conformance images id

The kit's own images: konform-mock (every mock actor) and konform-reference (the built-in
reference Fachverfahren, packaged as a vendor packages an application: the schemas it validates
with below /schemas, a writable /data). Both are FROM scratch around a static binary; nothing is
pulled. Their tag is this binary's ID (the first 12 hex digits of its SHA-256, see "images id");
runs use images with that tag and build none of their own.

build   builds both for this binary and keeps them; --reference-tag adds a tag of your own to
        the reference image, e.g. to test it with run --sut-image.
save    writes both to a docker-save archive, for a CI without registry or Go (an air gap);
        copy this binary with it.
load    loads such an archive into the local engine.
id      prints this binary's ID.

exit codes: 0 done, 2 usage error (flags, no such image, a bad archive), 3 environment error
(no Docker engine, a build failed)
`

func cmdImages(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, imagesUsage)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	verb, rest := args[0], args[1:]
	fs := flag.NewFlagSet("conformance images "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below: to stdout for -h, to stderr after a wrong flag
	var schemaDir, refTag, output, input string
	switch verb {
	case "build":
		fs.StringVar(&schemaDir, "schemas", "", "folder of the official schemas (default as for run)")
		fs.StringVar(&refTag, "reference-tag", "", "an extra tag for the reference image")
	case "save":
		fs.StringVar(&output, "output", "", "the archive to write")
	case "load":
		fs.StringVar(&input, "input", "", "the archive to load")
	case "id":
	case "-h", "--help", "help":
		fmt.Fprint(stdout, imagesUsage)
		return exitPassed
	default:
		fmt.Fprintf(stderr, "conformance images: unknown verb %q\n\n%s", verb, imagesUsage)
		return exitUsage
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, imagesUsage)
			return exitPassed
		}
		fmt.Fprint(stderr, imagesUsage)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "conformance images %s: unexpected argument %q\n", verb, fs.Arg(0))
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "conformance images %s: %v\n", verb, err)
		return codeFor(err)
	}
	switch verb {
	case "id":
		id, err := runtime.KitID()
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, id)
	case "build":
		if schemaDir == "" {
			schemaDir = defaultSchemas()
		}
		if schemaDir == "" {
			return fail(usageError{"no official schemas: give --schemas DIR or run `conformance schemas fetch`"})
		}
		if err := specs.CheckLayout(schemaDir); err != nil {
			return fail(usageError{"--schemas: " + err.Error()})
		}
		root, _ := moduleRoot()
		tags, err := runtime.BuildKitImages(ctx, runtime.BuildOptions{SchemaDir: schemaDir, ReferenceTag: refTag, ModuleRoot: root, Progress: stderr})
		if err != nil {
			return fail(err)
		}
		for _, t := range tags {
			fmt.Fprintln(stdout, t)
		}
	case "save":
		if output == "" {
			return fail(usageError{"--output FILE is required"})
		}
		tmp, err := os.CreateTemp(filepath.Dir(output), ".konform-images-*")
		if err != nil {
			return fail(usageError{fmt.Sprintf("--output %s: %v", output, err)})
		}
		defer os.Remove(tmp.Name())
		tags, err := runtime.SaveKitImages(ctx, tmp)
		if cerr := tmp.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing %s: %w", output, cerr)
		}
		if err != nil {
			return fail(err)
		}
		if err := os.Chmod(tmp.Name(), 0o644); err != nil {
			return fail(err)
		}
		if err := os.Rename(tmp.Name(), output); err != nil {
			return fail(fmt.Errorf("writing %s: %w", output, err))
		}
		for _, t := range tags {
			fmt.Fprintln(stdout, t)
		}
	case "load":
		if input == "" {
			return fail(usageError{"--input FILE is required"})
		}
		f, err := os.Open(input)
		if err != nil {
			return fail(usageError{fmt.Sprintf("--input: %v", err)})
		}
		defer f.Close()
		loaded, mine, err := runtime.LoadKitImages(ctx, f)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", input, err))
		}
		for _, l := range loaded {
			fmt.Fprintln(stdout, l)
		}
		if !mine {
			id, _ := runtime.KitID()
			fmt.Fprintf(stderr, "WARNING: the archive holds no kit images for this binary (ID %s); runs will build their own. Save the images with the binary you run.\n", id)
		}
	}
	return exitPassed
}
