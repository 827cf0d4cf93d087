package host_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// peopleWorld is a source with one person signed in to this site, to a protected app and
// to two OpenID Connect applications (one since deleted), with a credential kept; and the
// apps: one open to the person's group, one to another group, a protected app open to all.
type peopleWorld struct {
	st     *store.Store
	people *host.People
	events *host.Events
	src    *store.Source
	frank  *store.User
}

func newPeopleWorld(t *testing.T) *peopleWorld {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	w := &peopleWorld{st: st, events: host.NewEvents(st)}
	w.people = host.NewPeople(st, host.NewSources(st, host.NewRegistry()), nil)
	src, err := st.CreateSource(ctx, "example", "club", "The Club")
	if err != nil {
		t.Fatal(err)
	}
	w.src = src
	if err := st.SetEnabled(ctx, src.ID, true); err != nil {
		t.Fatal(err)
	}
	done, err := st.FinishLogin(ctx, store.User{SourceID: src.ID, Subject: "42", Username: "frank", Name: "Frank", Groups: []string{"friends"},
		Credentials: []store.Credential{{Kind: "api_token", Value: "secret"}}},
		store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: "42", Name: "frank"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CreateForwardSession(ctx, "fwd-42", done.SessionID, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.OIDCClient{{ID: "movies", Name: "Movies", AllowedGroups: []string{"friends"}, Origin: "ui"},
		{ID: "books", Name: "Books", AllowedGroups: []string{"staff"}, Origin: "ui"}} {
		if err := st.PutOIDCClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.PutForwardRule(ctx, store.ForwardRule{Host: "media.example", PathPrefix: "/tv"}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ grant, client string }{{"grant-movies", "movies"}, {"grant-gone", "gone"}} {
		if err := st.PutAccessToken(ctx, store.AccessToken{ID: "at-" + g.grant, GrantID: g.grant, FamilyID: "fam-" + g.grant, ClientID: g.client,
			UserID: done.UserID, Scopes: []string{"openid"}, AuthTime: time.Now(), Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if w.frank, err = w.people.Get(ctx, done.UserID); err != nil {
		t.Fatal(err)
	}
	return w
}

// kinds are the kinds of the person's newest events, newest first, with their details.
func (w *peopleWorld) kinds(t *testing.T) []string {
	t.Helper()
	evs, err := w.events.OfPerson(context.Background(), w.frank, 20)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Kind)+": "+e.Detail)
	}
	return out
}

// The admin's page of a person, the person's profile and the deletion's preview read where
// they are signed in, each grant with its app's name (the id of an app gone), and the apps
// whose group gate admits them.
func TestPeopleReadWhereAPersonIsSignedIn(t *testing.T) {
	ctx := context.Background()
	w := newPeopleWorld(t)
	p, err := w.people.Person(ctx, w.frank.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 1 || p.Events[0].Kind != store.EventLoginAllowed || p.User.Username != "frank" {
		t.Fatalf("person: %+v, events %+v", p.User, p.Events)
	}
	if len(p.Sessions) != 2 || p.Sessions[0].Kind != store.HostSession || p.Sessions[1].Kind != store.ForwardAuthSession {
		t.Fatalf("sessions: %+v", p.Sessions)
	}
	apps := map[string]string{}
	for _, g := range p.Grants {
		apps[g.ID] = g.App
	}
	if len(apps) != 2 || apps["grant-movies"] != "Movies" || apps["grant-gone"] != "gone" {
		t.Fatalf("grants' apps: %v", apps)
	}
	if _, err := w.people.Person(ctx, w.frank.ID+100, 10); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("nobody's page: %v", err)
	}

	prof, err := w.people.Profile(ctx, w.frank)
	if err != nil {
		t.Fatal(err)
	}
	want := []host.App{{Name: "Movies"}, {Name: "media.example/tv", Protected: true, Address: "media.example/tv"}}
	if !slices.Equal(prof.Apps, want) {
		t.Fatalf("apps admitting the person: %+v, want %+v (Books is for staff)", prof.Apps, want)
	}
	if prof.Source == nil || prof.Source.Name != "The Club" || len(prof.Sessions) != 2 || len(prof.Grants) != 2 {
		t.Fatalf("profile: %+v", prof)
	}

	reach, err := w.people.Reach(ctx, w.frank.ID)
	if err != nil {
		t.Fatal(err)
	}
	if reach.SiteSessions != 1 || reach.AppSessions != 1 || reach.Grants != 2 || !slices.Equal(reach.Credentials, []string{"api_token"}) {
		t.Fatalf("what deleting ends: %+v", reach)
	}
	all, err := w.people.Apps(ctx)
	if err != nil || len(all.Clients) != 2 || len(all.Rules) != 1 {
		t.Fatalf("every app: %+v %v", all, err)
	}
	for q, n := range map[string]int{"": 1, "fran": 1, "nobody": 0} {
		if users, err := w.people.Search(ctx, q); err != nil || len(users) != n {
			t.Fatalf("search %q: %d people, want %d (%v)", q, len(users), n, err)
		}
	}
}

// Each of the admin's actions on a person does it and records it; ending a session that
// already ended, or a grant not the person's, is store.ErrNotFound and records nothing.
func TestAdminActionsOnAPersonAreRecorded(t *testing.T) {
	ctx := context.Background()
	w := newPeopleWorld(t)
	p, err := w.people.Person(ctx, w.frank.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	fwd := p.Sessions[1]
	if err := w.people.EndSession(ctx, w.frank, fwd.Kind, fwd.Ref); err != nil {
		t.Fatal(err)
	}
	if err := w.people.EndSession(ctx, w.frank, fwd.Kind, fwd.Ref); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ending it again: %v", err)
	}
	if err := w.people.RevokeGrant(ctx, w.frank, "grant-movies"); err != nil {
		t.Fatal(err)
	}
	if err := w.people.RevokeGrant(ctx, w.frank, "grant-of-nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking a grant that is not theirs: %v", err)
	}
	if err := w.people.SetDisabled(ctx, w.frank, true); err != nil {
		t.Fatal(err)
	}
	if u, _ := w.people.Get(ctx, w.frank.ID); !u.Disabled || u.DisabledReason != store.DisabledByAdmin {
		t.Fatalf("after disabling: %+v", u)
	}
	if err := w.people.SetDisabled(ctx, w.frank, false); err != nil {
		t.Fatal(err)
	}
	if u, _ := w.people.Get(ctx, w.frank.ID); u.Disabled {
		t.Fatalf("still disabled after enabling: %+v", u)
	}
	if err := w.people.SignOutByAdmin(ctx, w.frank); err != nil {
		t.Fatal(err)
	}
	if r, _ := w.people.Reach(ctx, w.frank.ID); r.SiteSessions+r.AppSessions+r.Grants != 0 {
		t.Fatalf("signed in after signing out everywhere: %+v", r)
	}
	if err := w.people.Delete(ctx, w.frank); err != nil {
		t.Fatal(err)
	}
	if _, err := w.people.Get(ctx, w.frank.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted person: %v", err)
	}
	want := []string{
		"admin_user_deleted: deleted by the admin: sessions, app access and kept credentials ended",
		"admin_access_revoked: signed out everywhere by the admin",
		"admin_user_enabled: ",
		"admin_user_disabled: ",
		"admin_access_revoked: an app's access (OpenID Connect grant) revoked by the admin",
		"admin_access_revoked: a protected apps session ended by the admin",
		"login_allowed: ",
	}
	if got := w.kinds(t); !slices.Equal(got, want) {
		t.Fatalf("events:\n%q\nwant\n%q", got, want)
	}
}

// While the local password is off, the person of the last admin sign-in through a source
// is neither turned off nor deleted (host.ErrLastWayIn), and nothing is recorded; turning
// them on again is not refused.
func TestAdminActionsKeepTheLastWayIn(t *testing.T) {
	ctx := context.Background()
	w := newPeopleWorld(t)
	_ = host.NewAdmin(w.st, nil).RecordSourceSignIn(ctx, host.SourceAdminSignIn{UserID: w.frank.ID, SourceID: w.src.ID, Group: "friends",
		Name: "frank", Source: w.src.Name, At: time.Now()})
	_ = w.st.SetMeta(ctx, "admin_password_off", "1")
	if err := w.people.SetDisabled(ctx, w.frank, true); !errors.Is(err, host.ErrLastWayIn) {
		t.Fatalf("turning off the last way in: %v", err)
	}
	if err := w.people.Delete(ctx, w.frank); !errors.Is(err, host.ErrLastWayIn) {
		t.Fatalf("deleting the last way in: %v", err)
	}
	if u, err := w.people.Get(ctx, w.frank.ID); err != nil || u.Disabled {
		t.Fatalf("the last way in after the refusals: %+v %v", u, err)
	}
	if got := w.kinds(t); !slices.Equal(got, []string{"login_allowed: "}) {
		t.Fatalf("a refusal recorded an action: %q", got)
	}
	if err := w.people.SetDisabled(ctx, w.frank, false); err != nil {
		t.Fatalf("turning the last way in on: %v", err)
	}
}

// The events query pages with filters, counts the day's events per source and kind, and
// finds a source's last event of a kind.
func TestEventsQuery(t *testing.T) {
	ctx := context.Background()
	w := newPeopleWorld(t)
	for _, e := range []store.Event{{SourceID: w.src.ID, Kind: store.EventLoginDenied, Subject: "43", Name: "gus"},
		{SourceID: w.src.ID, Kind: store.EventLoginDenied, Subject: "44", Name: "hal"},
		{Kind: store.EventAdminLogin}} {
		if err := w.st.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	page, err := w.events.Page(ctx, store.EventFilter{Kinds: []store.EventKind{store.EventLoginDenied}, Limit: 1})
	if err != nil || len(page.Events) != 1 || page.Events[0].Name != "hal" || !page.Older || page.Newer {
		t.Fatalf("first page of refusals: %+v %v", page, err)
	}
	page, err = w.events.Page(ctx, store.EventFilter{Kinds: []store.EventKind{store.EventLoginDenied}, Limit: 1, Before: page.Events[0].ID})
	if err != nil || len(page.Events) != 1 || page.Events[0].Name != "gus" || page.Older || !page.Newer {
		t.Fatalf("second page of refusals: %+v %v", page, err)
	}
	counts, err := w.events.Counts(ctx, time.Now().Add(-time.Hour))
	if err != nil || counts[w.src.ID][store.EventLoginDenied] != 2 || counts[w.src.ID][store.EventLoginAllowed] != 1 || counts[""][store.EventAdminLogin] != 1 {
		t.Fatalf("counts: %v %v", counts, err)
	}
	if counts, _ := w.events.Counts(ctx, time.Now().Add(time.Hour)); len(counts) != 0 {
		t.Fatalf("counts since a later time: %v", counts)
	}
	if e, err := w.events.Last(ctx, w.src.ID, store.EventLoginDenied); err != nil || e.Name != "hal" {
		t.Fatalf("last refusal: %+v %v", e, err)
	}
	if _, err := w.events.Last(ctx, w.src.ID, store.EventAdminUserDeleted); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("last of a kind never recorded: %v", err)
	}
}
