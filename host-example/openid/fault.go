package openid

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The OpenID Connect library answers every storage error of a token request as a refusal
// (invalid_grant, invalid_client): a client then throws away a refresh token that is still
// good. So a token request marks the store being unreachable in its context (storeFault),
// and the token endpoint answers an outage for it instead: 503 with a server_error.

// faultKey keys a token request's *atomic.Bool in its context.
type faultKey struct{}

// withFaultMark is ctx carrying a fresh mark, and the mark.
func withFaultMark(ctx context.Context) (context.Context, *atomic.Bool) {
	mark := new(atomic.Bool)
	return context.WithValue(ctx, faultKey{}, mark), mark
}

// storeFault marks the request of ctx when err is the store out of reach (not an answer
// about the data: a row missing, a code reused), and answers err. A request whose own
// context ended (its client went away) is no outage: its storage calls fail for that.
func storeFault(ctx context.Context, err error) error {
	if ctx.Err() == nil && store.Unavailable(err) {
		if mark, ok := ctx.Value(faultKey{}).(*atomic.Bool); ok {
			mark.Store(true)
		}
	}
	return err
}

// outageWriter replaces the answer of a request whose store failed by the outage answer,
// unless that answer has already begun.
type outageWriter struct {
	*statusWriter
	mark     *atomic.Bool
	replaced bool
	started  bool // the library's own answer has begun: it is passed on whole
}

func (w *outageWriter) WriteHeader(code int) {
	if w.mark.Load() && !w.replaced && !w.started {
		w.replaced = true
		w.status = http.StatusServiceUnavailable
		h := w.ResponseWriter.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Retry-After", dbunavailable.RetryAfter)
		h.Set("Cache-Control", "no-store")
		w.ResponseWriter.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.ResponseWriter.Write([]byte(`{"error":"server_error","error_description":"the database cannot be reached; try again in a moment"}`))
		return
	}
	if w.replaced {
		return
	}
	w.started = true
	w.statusWriter.WriteHeader(code)
}

func (w *outageWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	if w.mark.Load() && !w.started {
		w.WriteHeader(http.StatusOK)
		return len(b), nil
	}
	w.started = true
	return w.statusWriter.Write(b)
}
