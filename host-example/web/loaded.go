package web

import (
	"errors"
	"net/http"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// loaded is v when err is nil; otherwise it answers 404 (store.ErrNotFound) or 500 itself
// and reports false: the one way a page reads the thing its path names.
func loaded[T any](w http.ResponseWriter, r *http.Request, v T, err error) (T, bool) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		http.NotFound(w, r)
	case err != nil:
		dbunavailable.Answer(w)
	default:
		return v, true
	}
	var zero T
	return zero, false
}
