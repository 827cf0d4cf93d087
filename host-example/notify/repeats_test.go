package notify_test

import (
	"context"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// A friend reloading an app that refuses him is one message per RepeatWindow, not one per
// reload; another person, another reason, or the window gone by is told again; other kinds
// are never held back.
func TestRepeatedRefusalIsToldOnce(t *testing.T) {
	f := newFixture(t, notify.Config{})
	r := newReceiver(t)
	f.target(t, notify.TargetInput{Name: "hook", URL: r.URL + "/in", Format: notify.Webhook, Kinds: []string{"refusal", "admin_ways_changed"}, Secret: hookSecret})
	ctx := context.Background()
	add := func(e store.Event) {
		t.Helper()
		if err := f.st.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	refused := store.Event{SourceID: "src", Kind: store.EventOIDCDenied, Subject: "1001", Name: "alice", Reason: "not_in_allowed_groups"}
	for range 20 {
		add(refused)
	}
	other := refused
	other.Subject, other.Name = "1002", "bob"
	add(other)
	why := refused
	why.Reason = "disabled"
	add(why)
	for range 3 {
		add(store.Event{Kind: store.EventAdminSecurityChanged, Detail: "TOTP turned on"})
	}
	if n := f.send(t); n != 6 {
		t.Fatalf("delivered %d, want 6: alice once, bob, alice's other reason, and 3 admin changes", n)
	}
	f.clock.advance(notify.RepeatWindow)
	add(refused)
	if n := f.send(t); n != 1 {
		t.Fatalf("after the window: delivered %d, want alice's refusal again", n)
	}
}
