// Package allocbudget fails a test when an operation allocates more than its budget: the
// figure measured when the budget was set, plus about 10 % (issue 34's allocation budgets).
// sync.Pool drops items at random under the race detector, so the tests that use it build
// only without it (//go:build !race) and run in their own step of scripts/test.
package allocbudget

import "testing"

// Check fails t when one run of f allocates more than budget times on average, naming what
// to do about it; it logs the figure either way.
func Check(t testing.TB, budget float64, what string, f func()) {
	t.Helper()
	got := testing.AllocsPerRun(200, f)
	t.Logf("%s: %.0f allocations a run (budget %.0f)", what, got, budget)
	if got > budget {
		t.Errorf("%s: %.0f allocations a run, over the budget of %.0f: find what added them (go test -bench … -benchmem, -memprofile);\n"+
			"if a Go toolchain or dependency bump moved them, measure again and set the budget at the new figure + about 10 %%", what, got, budget)
	}
}
