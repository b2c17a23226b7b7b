// Package architecture holds no code: its test keeps the package table of docs/architecture.md
// true against the import graph `go list` reports.
package architecture
