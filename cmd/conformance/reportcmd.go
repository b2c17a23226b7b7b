package main

import (
	"fmt"
	"io"
)

// cmdReport renders a finished run's summary.json for other readers.
func cmdReport(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "conformance report: not yet built")
	return exitUsage
}
