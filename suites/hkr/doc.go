// Package hkr holds the checks of profile hkr-payment: paid fees reach the HKR system exactly
// once and to the cent.
package hkr
