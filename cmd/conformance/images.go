package main

import (
	"fmt"
	"io"
)

// cmdImages builds, saves and loads the kit's own images.
func cmdImages(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "conformance images: not yet built")
	return exitUsage
}
