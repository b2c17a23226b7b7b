// Package fitconnect holds the checks of profile fitconnect-receiver: every duty of a
// Fachverfahren that receives submissions over FIT-Connect.
package fitconnect
