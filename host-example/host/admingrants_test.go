package host_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// grantsWorld is a host of two households: the first source's owner, a friend, and the
// owner of the second source (a friend's own server, same plugin), whose mapping gives him
// the same group name "plex-owner".
type grantsWorld struct {
	st                  *store.Store
	first, hanks        *store.Source
	owner, friend, hank int64
}

func newGrantsWorld(t *testing.T) *grantsWorld {
	t.Helper()
	ctx := context.Background()
	w := &grantsWorld{st: openStore(t)}
	source := func(slug, name string) *store.Source {
		src, err := w.st.CreateSource(ctx, "plex", slug, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.st.SetEnabled(ctx, src.ID, true); err != nil {
			t.Fatal(err)
		}
		return src
	}
	login := func(src *store.Source, sub, username string, groups ...string) int64 {
		done, err := w.st.FinishLogin(ctx, store.User{SourceID: src.ID, Subject: sub, Username: username, Groups: groups},
			store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: sub}, "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return done.UserID
	}
	w.first, w.hanks = source("plex", "Plex"), source("hanks", "Hank's Plex")
	w.owner = login(w.first, "1001", "owner", "plex-owner", "plex-server:Living Room")
	w.friend = login(w.first, "2001", "frank", "plex-friend")
	w.hank = login(w.hanks, "2004", "hank", "plex-owner")
	return w
}

// admitted are the ids of the people the current grants admit.
func (w *grantsWorld) admitted(t *testing.T) []int64 {
	adm := host.NewAdmin(w.st, nil)
	t.Helper()
	admins, err := adm.SourceAdmins(context.Background(), adm.Grants(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, a := range admins {
		ids = append(ids, a.User.ID)
	}
	return ids
}

// An earlier version's bare admin group, through which the first source's owner signed in,
// becomes the grant of that source only: he stays an admin, the second source's owner with
// the same group name does not become one, and since that source could give the group too,
// the grants need the admin's confirmation. Run again, the upgrade changes nothing.
func TestUpgradeAdminGroupKeepsItsSourceAdminOnly(t *testing.T) {
	ctx := context.Background()
	w := newGrantsWorld(t)
	st := w.st
	adm := host.NewAdmin(st, nil)
	_ = st.SetMeta(ctx, "admin_group", "plex-owner")
	_ = st.AddEvent(ctx, store.Event{SourceID: w.first.ID, Kind: store.EventAdminLogin, Subject: "1001", Name: "owner",
		Detail: `through Plex with the admin group "plex-owner"; client 192.0.2.1`})
	_ = adm.RecordSourceSignIn(ctx, host.SourceAdminSignIn{UserID: w.owner, Group: "plex-owner", Name: "owner", Source: "Plex", At: time.Now()})
	if err := adm.UpgradeGroup(ctx); err != nil {
		t.Fatal(err)
	}
	want := []host.Grant{{SourceID: w.first.ID, Group: "plex-owner"}}
	if got := adm.Grants(ctx); !slices.Equal(got, want) {
		t.Fatalf("grants %+v, want %+v", got, want)
	}
	if got := w.admitted(t); !slices.Equal(got, []int64{w.owner}) {
		t.Fatalf("admitted %v, want only the owner %d (hank is %d)", got, w.owner, w.hank)
	}
	if why := adm.GrantsUnconfirmed(ctx); !strings.Contains(why, "Hank's Plex") {
		t.Fatalf("no confirmation asked though another source could give the group: %q", why)
	}
	if in := adm.LastSourceSignIn(ctx); in == nil || in.SourceID != w.first.ID {
		t.Fatalf("the last sign-in's source not filled in: %+v", in)
	}
	if g, _ := st.Meta(ctx, "admin_group"); g != "" {
		t.Fatalf("the bare group stays: %q", g)
	}
	if evs, _ := st.Events(ctx, 5, "(upgrade)"); len(evs) != 1 {
		t.Fatalf("no event of the upgrade: %+v", evs)
	}
	if err := adm.SetGrants(ctx, want); err != nil || adm.GrantsUnconfirmed(ctx) != "" {
		t.Fatalf("saving the grants does not confirm them: %v %q", err, adm.GrantsUnconfirmed(ctx))
	}
	if err := adm.UpgradeGroup(ctx); err != nil || !slices.Equal(adm.Grants(ctx), want) {
		t.Fatalf("a second upgrade changed the grants: %+v %v", adm.Grants(ctx), err)
	}
}

// An install whose local password is off, whose events were purged and whose last sign-in
// record predates user ids keeps working through the pair of that sign-in (found by the
// source's name); with a single source that could give the group, nothing needs confirming.
func TestUpgradeAdminGroupWithThePasswordOff(t *testing.T) {
	ctx := context.Background()
	w := newGrantsWorld(t)
	st := w.st
	adm := host.NewAdmin(st, nil)
	if err := st.DeleteSource(ctx, w.hanks.ID); err != nil {
		t.Fatal(err)
	}
	_ = st.SetMeta(ctx, "admin_group", "plex-owner")
	_ = adm.RecordSourceSignIn(ctx, host.SourceAdminSignIn{Group: "plex-owner", Name: "owner", Source: "Plex", At: time.Now()})
	_ = st.SetMeta(ctx, "admin_password_off", "1")
	_ = st.SetMeta(ctx, "admin_password_hash", "")
	if err := adm.UpgradeGroup(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.admitted(t); !slices.Equal(got, []int64{w.owner}) {
		t.Fatalf("admitted %v, want the owner %d", got, w.owner)
	}
	if why := adm.GrantsUnconfirmed(ctx); why != "" {
		t.Fatalf("confirmation asked of a single possible source: %q", why)
	}
	if err := adm.SetGrants(ctx, adm.Grants(ctx)); err != nil {
		t.Fatalf("the grants cannot be saved (confirmed) while the password is off: %v", err)
	}
}

// When no one has signed in to the admin with the bare group, no grant is made (no one is
// admitted) and the admin is asked to name the source.
func TestUpgradeAdminGroupWithoutASignIn(t *testing.T) {
	ctx := context.Background()
	w := newGrantsWorld(t)
	adm := host.NewAdmin(w.st, nil)
	_ = w.st.SetMeta(ctx, "admin_group", "plex-owner")
	_ = w.st.AddEvent(ctx, store.Event{SourceID: w.first.ID, Kind: store.EventAdminLogin,
		Detail: `through Plex with the admin group "admins"; client 192.0.2.1`}) // another group's
	if err := adm.UpgradeGroup(ctx); err != nil {
		t.Fatal(err)
	}
	if got := adm.Grants(ctx); len(got) != 0 {
		t.Fatalf("grants %+v without a sign-in", got)
	}
	if got := w.admitted(t); len(got) != 0 {
		t.Fatalf("admitted %v", got)
	}
	if why := adm.GrantsUnconfirmed(ctx); !strings.Contains(why, "no one has signed in") {
		t.Fatalf("not asked to confirm: %q", why)
	}
}

// While the local password is off, the source and the person of the last admin sign-in
// through a source are kept (turning them off or deleting them is refused); a record from
// before user ids matches whoever holds its grant. Others, and all once the password is on,
// pass (the pages' part is TestLastWayInIsKeptWhileThePasswordIsOff).
func TestAdminWayInKeptWhileThePasswordIsOff(t *testing.T) {
	ctx := context.Background()
	w := newGrantsWorld(t)
	st := w.st
	adm := host.NewAdmin(st, nil)
	user := func(id int64) *store.User {
		u, err := st.User(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	check := func(when, sourceID string, u *store.User, refused bool) {
		t.Helper()
		if err := adm.CheckWayInKept(ctx, sourceID, u); refused != errors.Is(err, host.ErrLastWayIn) || !refused && err != nil {
			t.Fatalf("%s: %v (refusal wanted: %v)", when, err, refused)
		}
	}
	_ = adm.SetPassword(ctx, "a-long-admin-password")
	in := host.SourceAdminSignIn{UserID: w.owner, SourceID: w.first.ID, Group: "plex-owner", Name: "owner", Source: "Plex", At: time.Now()}
	_ = adm.RecordSourceSignIn(ctx, in)
	check("the source, password on", w.first.ID, nil, false)
	check("the person, password on", "", user(w.owner), false)
	_ = st.SetMeta(ctx, "admin_password_off", "1")
	_ = st.SetMeta(ctx, "admin_password_hash", "")
	check("the source", w.first.ID, nil, true)
	check("the person", "", user(w.owner), true)
	check("another source", w.hanks.ID, nil, false)
	check("another person", "", user(w.friend), false)
	check("the other source's holder of the same group", "", user(w.hank), false)
	in.UserID = 0 // a record from before user ids
	_ = adm.RecordSourceSignIn(ctx, in)
	check("the grant's holder, record without its person", "", user(w.owner), true)
	check("another person, record without its person", "", user(w.friend), false)
	check("the other source's holder, record without its person", "", user(w.hank), false)
}
