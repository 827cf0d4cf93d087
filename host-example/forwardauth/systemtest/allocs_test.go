//go:build !race

// Allocation budgets (issue 34), each the figure measured when it was set (go1.26.8: a hit 18,
// an anonymous 401 23, ParsePath 2; the recorder included) plus about 10 %, so that drift fails
// CI. sync.Pool drops items at random under the race detector, so these build only without it
// and run in their own step of scripts/test (go test -run Allocs, without -race).

package systemtest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/allocbudget"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
)

// TestAllocsForwardAuthHit bounds the allocations of an allowed nginx answer for a cached live
// session, through the host's whole handler (BenchmarkVerifyNginx's request).
func TestAllocsForwardAuthHit(t *testing.T) {
	f := newFixture(t)
	r := nginxAsk(f.ownerTok)
	allocbudget.Check(t, 20, "a forward-auth hit", func() {
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("verify: %d", w.Code)
		}
	})
}

// TestAllocsForwardAuthAnonymous bounds the allocations of the 401 to a request without a cookie.
func TestAllocsForwardAuthAnonymous(t *testing.T) {
	f := newFixture(t)
	r := nginxAsk("")
	allocbudget.Check(t, 26, "an anonymous 401", func() {
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("verify: %d", w.Code)
		}
	})
}

// TestAllocsParsePath bounds the allocations of reading a plain app path with a query.
func TestAllocsParsePath(t *testing.T) {
	allocbudget.Check(t, 3, "ParsePath", func() {
		if _, err := forwardauth.ParsePath("/library/42/metadata?page=2"); err != nil {
			t.Fatal(err)
		}
	})
}
