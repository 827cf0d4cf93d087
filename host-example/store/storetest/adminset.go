package storetest

import (
	"slices"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The groups the admin sets of a person by hand (of the origin "admin").
var adminGroupChecks = []check{
	{"UserAdminGroupsKeptAcrossLogins", userAdminGroupsKeptAcrossLogins},
}

// The admin's groups survive a login, which replaces only its source's groups; setting them
// keeps the source's.
func userAdminGroupsKeptAcrossLogins(e *env) {
	src := e.source("s")
	u := store.User{SourceID: src.ID, Subject: "7", Username: "bob", Name: "Bob", Email: "b@example.org", EmailVerified: true,
		Picture: "https://pictures.example.org/1", Groups: []string{"g1", "g2"}}
	allowed := store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: "7"}
	first, err := e.a.FinishLogin(e.ctx, u, allowed, "", time.Hour)
	e.ok(err, "first login")
	id := first.UserID
	e.ok(e.b.SetAdminGroups(e.ctx, id, []string{"family", "g1"}), "set the admin's groups")
	got, err := e.a.User(e.ctx, id)
	e.ok(err, "read")
	if want := []store.Membership{{Group: "g1", From: src.ID}, {Group: "g2", From: src.ID}, {Group: "family", From: store.FromAdmin},
		{Group: "g1", From: store.FromAdmin}}; !slices.Equal(got.Memberships, want) || !slices.Equal(got.Groups, []string{"g1", "g2", "family"}) ||
		!slices.Equal(got.AdminGroups(), []string{"family", "g1"}) {
		e.Fatalf("after setting the admin's groups: %+v", got.Memberships)
	}
	e.advance(time.Minute)
	u.Groups = []string{"g3"}
	_, err = e.b.FinishLogin(e.ctx, u, allowed, "", time.Hour)
	e.ok(err, "second login")
	got, _ = e.a.User(e.ctx, id)
	if want := []store.Membership{{Group: "family", From: store.FromAdmin}, {Group: "g1", From: store.FromAdmin}, {Group: "g3", From: src.ID}}; !slices.Equal(got.Memberships, want) {
		e.Fatalf("groups after a login: %+v, want %+v", got.Memberships, want)
	}
	e.ok(e.a.SetAdminGroups(e.ctx, id, nil), "take the admin's groups away")
	if got, _ = e.b.User(e.ctx, id); !slices.Equal(got.Memberships, []store.Membership{{Group: "g3", From: src.ID}}) {
		e.Fatalf("after taking the admin's groups away: %+v", got.Memberships)
	}
	e.is(e.a.SetAdminGroups(e.ctx, id+1000, []string{"x"}), store.ErrNotFound, "groups of nobody")
}
