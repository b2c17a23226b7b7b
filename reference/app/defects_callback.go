package app

import (
	"context"
	"net/http"

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

// callbackVariants are the callback handler's options of the defects switched on that swap
// what a valid callback sets off.
func callbackVariants(d defects.Set, proc *intake.Processor) []callback.Option {
	if d.On("callback-fetch-named-submissions") {
		return []callback.Option{callback.WithNotice(func(body []byte) {
			go proc.FetchAnnounced(context.Background(), body)
		})}
	}
	return nil
}
