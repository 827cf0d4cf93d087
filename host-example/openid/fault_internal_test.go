package openid

import (
	"context"
	"database/sql/driver"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A token request whose client went away fails its storage calls for that: it is no
// outage, so it is neither answered nor counted as one.
func TestGoneClientIsNoOutage(t *testing.T) {
	live, liveMark := withFaultMark(context.Background())
	_ = storeFault(live, driver.ErrBadConn)
	if !liveMark.Load() {
		t.Fatal("a lost database connection did not mark a live request")
	}
	ctx, cancel := context.WithCancel(context.Background())
	ctx, mark := withFaultMark(ctx)
	cancel()
	_ = storeFault(ctx, driver.ErrBadConn)
	if mark.Load() {
		t.Fatal("a request its client gave up on was marked an outage")
	}
}

// An answer the library has begun goes out whole: a mark set after its header neither
// swaps its body for the outage answer nor writes a second header.
func TestOutageReplacesOnlyAnAnswerNotBegun(t *testing.T) {
	rec := httptest.NewRecorder()
	sw := &statusWriter{ResponseWriter: rec, status: http.StatusOK}
	_, mark := withFaultMark(context.Background())
	w := &outageWriter{statusWriter: sw, mark: mark}
	w.WriteHeader(http.StatusBadRequest)
	mark.Store(true)
	if _, err := w.Write([]byte(`{"error":"invalid_grant"}`)); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusBadRequest || sw.status != http.StatusBadRequest || rec.Body.String() != `{"error":"invalid_grant"}` {
		t.Fatalf("answer %d (counted %d) %q, want the library's 400 whole", rec.Code, sw.status, rec.Body.String())
	}

	rec = httptest.NewRecorder()
	sw = &statusWriter{ResponseWriter: rec, status: http.StatusOK}
	_, mark = withFaultMark(context.Background())
	mark.Store(true)
	w = &outageWriter{statusWriter: sw, mark: mark}
	w.WriteHeader(http.StatusBadRequest)
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
	if rec.Code != http.StatusServiceUnavailable || sw.status != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("answer %d (counted %d), want the outage's 503 with Retry-After", rec.Code, sw.status)
	}
	if got := rec.Body.String(); got != `{"error":"server_error","error_description":"the database cannot be reached; try again in a moment"}` {
		t.Fatalf("body %q: the library's answer leaked into the outage answer", got)
	}
}
