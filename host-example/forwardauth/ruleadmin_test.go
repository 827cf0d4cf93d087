package forwardauth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// oneKind declares one credential kind.
type oneKind struct{}

func (oneKind) CredentialKind(k string) (source.CredentialKind, bool) {
	return source.CredentialKind{Kind: k, App: "Web"}, k == "demo.token"
}

// adminEvents are the recorded events' kinds and details, oldest first.
func adminEvents(t *testing.T, st *store.Store) []string {
	t.Helper()
	evs, err := st.Events(context.Background(), 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, string(evs[i].Kind)+" "+evs[i].Detail)
	}
	return out
}

// The rules' admin checks a rule and its hand-over, refuses a second rule of a host and
// path, records each change, and the service's rules see every change at once.
func TestRuleAdmin(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	admin := NewRuleAdmin(st, oneKind{}, "login.example.test")
	svc := &Service{o: Options{Store: st, Now: time.Now, CacheTTL: time.Hour}}
	if rs, err := svc.currentRules(ctx); err != nil || len(rs) != 0 {
		t.Fatalf("rules at first: %v %v", rs, err)
	}

	rule, err := admin.Save(ctx, "", RuleInput{Name: " Sonarr ", Host: "Sonarr.Example.Test:443", PathPrefix: "/admin/", Groups: "owners\n\n home "})
	if err != nil {
		t.Fatal(err)
	}
	if rule.ID == "" || rule.Name != "Sonarr" || rule.Host != "sonarr.example.test" || rule.PathPrefix != "/admin" || !slices.Equal(rule.Groups, []string{"owners", "home"}) {
		t.Fatalf("saved: %+v", rule)
	}
	if rs, err := svc.currentRules(ctx); err != nil || len(rs) != 1 || rs[0].ID != rule.ID {
		t.Fatalf("the service's rules after a save: %v %v", rs, err)
	}

	var invalid *InvalidRule
	for name, c := range map[string]struct {
		id   string
		in   RuleInput
		want string
	}{
		"no host":         {"", RuleInput{}, "Host: enter the app's host name"},
		"unknown kind":    {"", RuleInput{Host: "web.example.test", Handover: "other.token"}, "no login method offers other.token"},
		"hand-over path":  {"", RuleInput{Host: "web.example.test", PathPrefix: "/web", Handover: "demo.token"}, "only for a whole host"},
		"own host":        {"", RuleInput{Host: "login.example.test", Handover: "demo.token"}, "this sign-in site's own host"},
		"shared host":     {"", RuleInput{Host: "sonarr.example.test", Handover: "demo.token"}, "has another rule"},
		"same host, path": {"", RuleInput{Host: "sonarr.example.test", PathPrefix: "/admin"}, "another rule already protects sonarr.example.test/admin"},
	} {
		if _, err := admin.Save(ctx, c.id, c.in); !errors.As(err, &invalid) || !strings.Contains(strings.Join(invalid.Problems, " "), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := admin.Save(ctx, "nope", RuleInput{Host: "x.example.test"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("save an unknown rule: %v", err)
	}

	changed, err := admin.Save(ctx, rule.ID, RuleInput{Name: "Sonarr", Host: "sonarr.example.test"})
	if err != nil || changed.ID != rule.ID || changed.PathPrefix != "" {
		t.Fatalf("changed: %+v %v", changed, err)
	}
	if got, err := admin.Get(ctx, rule.ID); err != nil || got.PathPrefix != "" {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := admin.Save(ctx, "", RuleInput{Host: "web.example.test", Handover: "demo.token"}); err != nil {
		t.Fatalf("a hand-over on a host of its own: %v", err)
	}
	gone, err := admin.Delete(ctx, rule.ID)
	if err != nil || gone.Host != "sonarr.example.test" {
		t.Fatalf("delete: %+v %v", gone, err)
	}
	if _, err := admin.Get(ctx, rule.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted rule: %v", err)
	}
	if _, err := admin.Delete(ctx, rule.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	rs, err := svc.currentRules(ctx)
	if err != nil || len(rs) != 1 || rs[0].Host != "web.example.test" {
		t.Fatalf("the service's rules after a delete: %v %v", rs, err)
	}
	want := []string{"admin_forward_rule_saved rule " + rule.ID + " sonarr.example.test/admin", "admin_forward_rule_saved rule " + rule.ID + " sonarr.example.test",
		"admin_forward_rule_saved rule " + rs[0].ID + " web.example.test", "admin_forward_rule_deleted rule " + rule.ID + " sonarr.example.test"}
	if got := adminEvents(t, st); !slices.Equal(got, want) {
		t.Fatalf("events:\n%q\nwant\n%q", got, want)
	}
}
