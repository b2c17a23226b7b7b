package app

import (
	"context"
	"net/http"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/reference/callback"
	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/intake"
)

// callbackRoute is the handler the callback path gets: none at all (404) under callback-no-route.
func callbackRoute(d defects.Set, h http.Handler) http.Handler {
	if d.On("callback-no-route") {
		return http.NotFoundHandler()
	}
	return h
}

// callbackVariants are the callback handler's options of the defects switched on.
func callbackVariants(d defects.Set, proc *intake.Processor) []callback.Option {
	var o []callback.Option
	if d.On("callback-no-hmac-check") {
		o = append(o, callback.WithoutHMACCheck())
	}
	if d.On("callback-stale-timestamp-accepted") {
		o = append(o, callback.WithoutTimestampCheck())
	}
	if d.On("callback-ignored") {
		o = append(o, callback.WithoutTrigger())
	}
	if d.On("callback-fetch-named-submissions") {
		o = append(o, callback.WithNotice(func(body []byte) {
			go proc.FetchAnnounced(context.Background(), body)
		}))
	}
	return o
}

// worksInBackground is false under probe-only: the reference then neither polls nor books.
func worksInBackground(d defects.Set) bool { return !d.On("probe-only") }

// clientSecret is the secret the reference logs in with: a wrong one under token-wrong-credentials.
func clientSecret(secret string, d defects.Set) string {
	if d.On("token-wrong-credentials") {
		return secret + "-"
	}
	return secret
}

// probeInfo is what the probe answers about the reference: a contract version the kit does not
// know under probe-wrong-contract-version.
func probeInfo(info contract.Info, d defects.Set) contract.Info {
	if d.On("probe-wrong-contract-version") {
		info.ContractVersion = "0"
	}
	return info
}
