package recorder

import (
	"context"
	"net/http"
)

func contextWithNote(r *http.Request, note *string) context.Context {
	return context.WithValue(r.Context(), noteKey{}, note)
}
