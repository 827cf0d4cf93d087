package systemtest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// A rule change whose announcement this replica never received (the database out of its
// reach, or its LISTEN connection lost, while another replica still writes) takes effect
// within -forward-auth-cache, as a logout does: the rules are read again at least that often.
func TestUnannouncedRuleChangeWithinCacheTTL(t *testing.T) {
	f := newFixture(t)
	const hook = "http://app.example.test/api/hooks/sonarr"
	if got := f.nginx("", "POST", hook).Code; got != http.StatusOK {
		t.Fatalf("the bypass answered %d before the change, want 200", got)
	}
	other, err := store.Open(f.dir) // another replica: its changes are not announced here
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	rules, err := other.ForwardRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	changed := false
	for _, r := range rules {
		if r.PathPrefix == "/api" {
			r.Bypass = nil
			if _, err := other.PutForwardRule(ctx, r); err != nil {
				t.Fatal(err)
			}
			changed = true
		}
	}
	if !changed {
		t.Fatal("the fixture has no /api rule")
	}
	f.advance(ttl)
	if got := f.nginx("", "POST", hook).Code; got != http.StatusUnauthorized {
		t.Fatalf("a bypass removed %s ago still lets anonymous requests pass: %d, want 401", ttl, got)
	}
}
