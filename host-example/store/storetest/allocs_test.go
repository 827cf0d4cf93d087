//go:build !race

// Allocation budget of a refresh grant's store work (issue 34): the figure measured when it was
// set (go1.26.8, modernc.org/sqlite v1.61.1: 210 a grant, the harness's ids and rows included) plus about 10 %, so
// that drift fails CI. It builds only without the race detector and runs in the allocation
// step of scripts/test (go test -run Allocs, without -race), as the forward-auth budgets do.

package storetest

import (
	"testing"

	"github.com/plexlogin/plexlogin/host-example/allocbudget"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// TestAllocsRefreshGrant bounds the allocations of one refresh grant's store work on SQLite
// (refreshChain.grant: read the token, the user, rotate, read the user again; the
// BenchmarkRefreshGrant operation).
func TestAllocsRefreshGrant(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	uid := benchLogin(t, st, benchSource(t, st), 0).UserID
	c, err := newRefreshChain(st, uid, "f0")
	if err != nil {
		t.Fatal(err)
	}
	allocbudget.Check(t, 231, "a refresh grant's store work", func() {
		if err := c.grant(); err != nil {
			t.Fatal(err)
		}
	})
}
