// Package ingest holds the checks of profile ingest: every field, every attachment and every
// character of a submission arrives in the Fachverfahren's structured store.
package ingest
