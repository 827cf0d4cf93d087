package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The admin form of a protected app saves "Allow encoded slashes (%2F) in paths" and clears it.
func TestRuleFormEncodedSlashOption(t *testing.T) {
	h := newHarness(t, nil)
	b := h.browser()
	b.AdminLogin(adminPassword)
	p := b.Do("GET", "/admin/forward-auth/new", nil)
	if !strings.Contains(p.Body, `name="allow_encoded_slash"`) || !strings.Contains(p.Body, "Allow encoded slashes (%2F) in paths") {
		t.Fatalf("the form lacks the option: %s", p.Body)
	}
	form := url.Values{"csrf": {p.CSRF()}, "name": {"RabbitMQ"}, "host": {"mq.example.test"}, "allow_encoded_slash": {"on"}}
	if p := b.Do("POST", "/admin/forward-auth", form); p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	rules, err := h.store.ForwardRules(context.Background())
	if err != nil || len(rules) != 1 || !rules[0].AllowEncodedSlash {
		t.Fatalf("saved rules %+v %v", rules, err)
	}
	if p := b.Do("GET", "/admin/forward-auth", nil); !strings.Contains(p.Body, "%2F allowed") {
		t.Fatalf("the list does not say %%2F is allowed: %s", p.Body)
	}
	p = b.Do("GET", "/admin/forward-auth/"+rules[0].ID, nil)
	if !strings.Contains(p.Body, `id="rule-encoded-slash" checked`) {
		t.Fatalf("the edit form does not show the option on: %s", p.Body)
	}
	delete(form, "allow_encoded_slash")
	form.Set("csrf", p.CSRF())
	if p := b.Do("POST", "/admin/forward-auth/"+rules[0].ID, form); p.Status != http.StatusSeeOther {
		t.Fatalf("save without it: %d", p.Status)
	}
	if rules, _ = h.store.ForwardRules(context.Background()); rules[0].AllowEncodedSlash {
		t.Fatal("the option stayed on after it was cleared")
	}
}

// The hand-over a rule names must be one a loaded plugin offers: another is refused, and
// the form offers only the plugins' kinds.
func TestRuleFormHandoverOnlyOfferedKinds(t *testing.T) {
	h := newHarness(t, nil)
	b := h.browser()
	b.AdminLogin(adminPassword)
	p := b.Do("GET", "/admin/forward-auth/new", nil)
	if !strings.Contains(p.Body, `name="handover" value="plex.token"`) || !strings.Contains(p.Body, "Sign users into Plex Web here") {
		t.Fatalf("the form does not offer the plugin's kind: %s", p.Body)
	}
	form := url.Values{"csrf": {p.CSRF()}, "host": {"web.example.test"}, "handover": {"evil.token"}}
	if p := b.Do("POST", "/admin/forward-auth", form); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.Body, "no login method offers evil.token") {
		t.Fatalf("an unoffered kind: %d %s", p.Status, p.Body)
	}
	if rules, _ := h.store.ForwardRules(context.Background()); len(rules) != 0 {
		t.Fatalf("saved: %+v", rules)
	}
	form.Set("handover", "plex.token")
	if p := b.Do("POST", "/admin/forward-auth", form); p.Status != http.StatusSeeOther {
		t.Fatalf("the offered kind: %d %s", p.Status, p.Body)
	}
}
