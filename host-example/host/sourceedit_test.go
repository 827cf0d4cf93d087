package host_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// kindsOf counts the events of st by kind.
func kindsOf(t *testing.T, st *store.Store) map[store.EventKind]int {
	t.Helper()
	events, err := st.Events(context.Background(), 100, "")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[store.EventKind]int{}
	for _, e := range events {
		kinds[e.Kind]++
	}
	return kinds
}

// A source an admin creates, edits, turns on and deletes: the form's problems in words, the
// draft kept for invalid settings and discarded on request, turning on only with saved
// settings and the caller's approval, and an event for each change.
func TestSourceAdminLifecycle(t *testing.T) {
	ctx := context.Background()
	st, sim, r := simReplica(t, 0)
	people := host.NewPeople(st, r.srcs, nil)

	_, err := r.srcs.Create(ctx, host.NewSource{Plugin: "nope", Slug: "Bad Slug"})
	var form *host.FormError
	if !errors.As(err, &form) || len(form.Problems) != 3 {
		t.Fatalf("a bad form: %v", err)
	}
	src, err := r.srcs.Create(ctx, host.NewSource{Plugin: "plex", Name: "Plex", Slug: "plex"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.srcs.Create(ctx, host.NewSource{Plugin: "plex", Name: "Again", Slug: "plex"}); !errors.As(err, &form) ||
		!slices.Equal(form.Problems, []string{"That slug is taken."}) {
		t.Fatalf("a taken slug: %v", err)
	}

	// Without saved settings it does not turn on, and the approval is not asked.
	asked := false
	if err := r.srcs.SetEnabled(ctx, src, true, func() bool { asked = true; return true }); !errors.Is(err, host.ErrNoSettings) || asked {
		t.Fatalf("on without settings: %v (asked %v)", err, asked)
	}

	// Invalid settings are kept as the draft, with the plugin's field errors.
	src, p, err := r.srcs.Editable(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := r.srcs.SaveSettings(ctx, src, p, map[string]any{"access_mode": "members"})
	if err != nil || len(saved.Errors) == 0 || saved.Source.Draft == nil || saved.Source.Config != nil {
		t.Fatalf("invalid settings: %+v %v", saved, err)
	}
	if errs := host.DraftErrors(ctx, saved.Source, p); len(errs) == 0 {
		t.Fatal("the draft's errors are not shown again")
	}
	saved, err = r.srcs.SaveSettings(ctx, saved.Source, p, map[string]any{"access_mode": "members", "owner_token": sim.Token("owner"),
		"allowed_servers": []any{map[string]any{"machine_id": plexsim.ServerLivingRoom, "name": "Living Room"}}})
	if err != nil || saved.Errors != nil || saved.Source.Config == nil || saved.Source.Draft != nil {
		t.Fatalf("valid settings: %+v %v", saved, err)
	}
	src = saved.Source
	if _, err := r.srcs.KeepDraft(ctx, src, map[string]any{"access_mode": "any"}); err != nil {
		t.Fatal(err)
	}
	if err := r.srcs.DiscardDraft(ctx, src); err != nil {
		t.Fatal(err)
	}
	if src, _ = r.srcs.Get(ctx, src.ID); src.Draft != nil {
		t.Fatal("the draft stayed")
	}

	// Not approved: nothing changes; approved: on.
	if err := r.srcs.SetEnabled(ctx, src, true, func() bool { return false }); !errors.Is(err, host.ErrNotApproved) {
		t.Fatalf("not approved: %v", err)
	}
	if src, _ = r.srcs.Get(ctx, src.ID); src.Enabled {
		t.Fatal("turned on without the approval")
	}
	if err := r.srcs.SetEnabled(ctx, src, true, func() bool { return true }); err != nil {
		t.Fatal(err)
	}

	// Someone refused before any login is found by the subject or name of their event.
	if r.srcs.FindPerson(ctx, src.ID, "frank") != nil {
		t.Fatal("found someone unknown")
	}
	_ = st.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.EventLoginDenied, Subject: "2001", Name: "frank"})
	if who := r.srcs.FindPerson(ctx, src.ID, "Frank"); who == nil || who.User != nil || who.Subject != "2001" || who.Name != "frank" {
		t.Fatalf("the refused person: %+v", who)
	}

	// The preview and the dry run ask the plugin only about someone known here or an id.
	src, p, _ = r.srcs.Editable(ctx, src.ID)
	for _, ask := range []host.PreviewAsk{{}, {Person: "nobody-here"}} {
		if _, err := r.srcs.Preview(ctx, src, p, ask); !errors.Is(err, host.ErrNoPerson) && !errors.Is(err, host.ErrUnknownPerson) {
			t.Fatalf("preview of %+v: %v", ask, err)
		}
	}
	if pv, err := r.srcs.Preview(ctx, src, p, host.PreviewAsk{Field: p.Schema.CodeField(), Person: "frank"}); err == nil && !pv.OwnerList {
		t.Fatalf("frank's preview is not from the owner's list: %+v", pv)
	}
	if _, err := r.srcs.DryRun(ctx, src, p, ""); !errors.Is(err, host.ErrNoPerson) {
		t.Fatalf("a dry run of no one: %v", err)
	}
	if _, err := r.srcs.DryRun(ctx, src, p, "nobody-here"); !errors.Is(err, host.ErrUnknownPerson) {
		t.Fatalf("a dry run of someone unknown: %v", err)
	}
	if dr, err := r.srcs.DryRun(ctx, src, p, "frank"); err != nil || dr.Person == nil || dr.Person.Subject != "2001" {
		t.Fatalf("a dry run of frank: %+v %v", dr, err)
	}

	use, err := r.srcs.Usage(ctx, src.ID)
	if err != nil || use.Users != 0 {
		t.Fatalf("usage: %+v %v", use, err)
	}
	if err := people.DeleteSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	if _, err := r.srcs.Get(ctx, src.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the source stayed: %v", err)
	}
	kinds := kindsOf(t, st)
	for k, n := range map[store.EventKind]int{store.EventAdminSourceCreated: 1, store.EventAdminSourceSaved: 1, store.EventAdminDraftDiscarded: 1,
		store.EventAdminSourceEnabled: 1, store.EventAdminSourceDeleted: 1} {
		if kinds[k] != n {
			t.Fatalf("%d events %s, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	if events, _ := st.Events(ctx, 1, ""); len(events) == 0 || !strings.Contains(events[0].Detail, "deleted with its 0 people") {
		t.Fatalf("the deletion's event: %+v", events)
	}
}
