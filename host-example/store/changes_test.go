package store

import (
	"context"
	"testing"
)

// Each change the store makes announces its topic, after the change; others stay put.
func TestChangesAnnounced(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	src := enabledSource(t, s, "slug")
	user := userID(t, s, src, "1")
	for _, c := range []struct {
		name  string
		topic Topic
		do    func() error
	}{
		{"a rule saved", ForwardRules, func() error { _, err := s.PutForwardRule(ctx, ForwardRule{Host: "a.test"}); return err }},
		{"a client saved", OIDCClients, func() error { return s.PutOIDCClient(ctx, OIDCClient{ID: "c", Name: "c"}) }},
		{"a client deleted", OIDCClients, func() error { return s.DeleteOIDCClient(ctx, "c") }},
		{"a key stored", SigningKeys, func() error { return s.PutSigningKey(ctx, SigningKey{ID: "k", Alg: "RS256", PrivatePEM: []byte("x")}) }},
		{"keys retired", SigningKeys, func() error { return s.RetireSigningKeys(ctx, "RS256", "none") }},
		{"a forward-auth log-out", AccessRevoked, func() error { return s.DeleteForwardSession(ctx, "nothing") }},
		{"a user disabled", AccessRevoked, func() error { return s.SetDisabled(ctx, user, true, DisabledByAdmin) }},
		{"a source disabled", AccessRevoked, func() error { return s.SetEnabled(ctx, src.ID, false) }},
	} {
		var before [topicCount]uint64
		for tp := range topicCount {
			before[tp] = s.Changes().Version(tp)
		}
		if err := c.do(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for tp := range topicCount {
			if moved := s.Changes().Version(tp) != before[tp]; moved != (tp == c.topic) {
				t.Errorf("%s: topic %d moved %v", c.name, tp, moved)
			}
		}
	}
}

// A health check's event kind names its action.
func TestHealthEventKind(t *testing.T) {
	if a, ok := HealthEvent("ping_server").HealthAction(); !ok || a != "ping_server" || string(HealthEvent("x")) != "health_x" {
		t.Fatalf("%q %v", a, ok)
	}
	if _, ok := EventLoginAllowed.HealthAction(); ok {
		t.Fatal("login_allowed is not a health event")
	}
}
