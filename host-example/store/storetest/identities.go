package storetest

import (
	"errors"
	"slices"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// identityChecks: one person across sources (issue 31 §3, contract 1.6).
var identityChecks = []check{
	{"IdentityJoinsAcrossSources", identityJoinsAcrossSources},
	{"IdentityRevalidationAndLeaving", identityRevalidationAndLeaving},
	{"PeopleLinkedByHand", peopleLinkedByHand},
	{"JoinAfterRefusalTakesNoStaleGroups", joinAfterRefusalTakesNoStaleGroups},
}

// joinLogin finishes a login of sub through src on s, giving groups, with the plugin id of
// global subjects (globalOf, "" for none) and a re-validation state.
func (e *env) joinLogin(s *store.Store, src *store.Source, sub, globalOf, reval string, groups ...string) *store.LoginDone {
	e.Helper()
	done, err := s.FinishLogin(e.ctx, store.User{SourceID: src.ID, Subject: sub, Username: "u" + sub, Groups: groups, GlobalOf: globalOf,
		Revalidation: []byte(reval)}, store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: sub}, "", time.Hour)
	e.ok(err, "finish login of "+sub+" through "+src.Slug)
	return done
}

// A new identity of a global subject joins the person another source of the same plugin knows
// by that subject: one user (one public id, the first source's row), each source's groups
// replaced only by its own logins. Without the declaration, or of another plugin, it does not.
func identityJoinsAcrossSources(e *env) {
	a, b := e.source("a"), e.source("b")
	first := e.joinLogin(e.a, a, "7", "plugin", "ra", "ga")
	second := e.joinLogin(e.a, b, "7", "plugin", "rb", "gb")
	if second.UserID != first.UserID || second.Disabled || second.Token == "" {
		e.Fatalf("the login through b is not the person of a: %+v, want user %d", second, first.UserID)
	}
	u, err := e.b.User(e.ctx, first.UserID)
	e.ok(err, "read the person")
	if u.SourceID != a.ID || !u.HasGroupFrom("ga", a.ID) || !u.HasGroupFrom("gb", b.ID) || u.Username != first.Username {
		e.Fatalf("the person after both logins: %+v", u)
	}
	if n, err := e.b.CountUsers(e.ctx, b.ID, "7"); err != nil || n != 0 {
		e.Fatalf("a second user of b: %d %v", n, err)
	}
	ids, err := e.b.Identities(e.ctx, first.UserID)
	e.ok(err, "identities")
	if len(ids) != 1 || ids[0].SourceID != b.ID || ids[0].Subject != "7" || string(ids[0].Revalidation) != "rb" {
		e.Fatalf("identities: %+v", ids)
	}
	e.joinLogin(e.a, b, "7", "plugin", "rb2", "gb2")
	if u, _ := e.b.User(e.ctx, first.UserID); !u.HasGroupFrom("ga", a.ID) || u.HasGroupFrom("gb", b.ID) || !u.HasGroupFrom("gb2", b.ID) {
		e.Fatalf("b's next login replaced other groups than its own: %+v", u.Memberships)
	}
	if ids, _ := e.b.Identities(e.ctx, first.UserID); len(ids) != 1 || string(ids[0].Revalidation) != "rb2" {
		e.Fatalf("identities after b's next login: %+v", ids)
	}

	undeclared := e.source("d")
	if d := e.joinLogin(e.a, undeclared, "7", "", "", "gd"); d.UserID == first.UserID {
		e.Fatal("a source whose plugin does not declare global subjects joined the person")
	}
	other, err := e.a.CreateSource(e.ctx, "other", "o", "o")
	e.ok(err, "create a source of another plugin")
	e.ok(e.a.SetEnabled(e.ctx, other.ID, true), "enable it")
	if d := e.joinLogin(e.a, other, "7", "other", "", "go"); d.UserID == first.UserID {
		e.Fatal("a source of another plugin joined the person")
	}

	// Deleting the joined source takes its groups away; deleting the person forgets its identities.
	e.ok(e.a.DeleteSource(e.ctx, b.ID), "delete b")
	if u, err := e.b.User(e.ctx, first.UserID); err != nil || u.HasGroupFrom("gb2", b.ID) || !u.HasGroupFrom("ga", a.ID) {
		e.Fatalf("the person after b was deleted: %+v %v", u, err)
	}
	c := e.source("c")
	e.joinLogin(e.a, c, "7", "plugin", "", "gc")
	e.ok(e.a.DeleteUser(e.ctx, first.UserID), "delete the person")
	if ids, _ := e.b.Identities(e.ctx, first.UserID); len(ids) != 0 {
		e.Fatalf("identities of a deleted person: %+v", ids)
	}
	if again := e.joinLogin(e.a, c, "7", "plugin", "", "gc"); again.UserID == first.UserID || again.Token == "" {
		e.Fatalf("the login after the person was deleted: %+v", again)
	}
}

// A joined identity is re-validated on its own (listed, marked, its state replaced), and
// leaving its source takes only that source's groups away, once.
func identityRevalidationAndLeaving(e *env) {
	a, b := e.source("a"), e.source("b")
	p := e.joinLogin(e.a, a, "7", "plugin", "ra", "ga")
	e.joinLogin(e.a, b, "7", "plugin", "rb", "gb")
	subs := func(before time.Time) []string {
		e.Helper()
		ids, err := e.b.IdentitiesToCheck(e.ctx, b.ID, before)
		e.ok(err, "identities to check")
		var out []string
		for _, i := range ids {
			out = append(out, i.Subject)
		}
		return out
	}
	if id, err := e.b.IdentityOwner(e.ctx, b.ID, "7"); err != nil || id != p.UserID {
		e.Fatalf("the identity's person: %d %v", id, err)
	}
	if _, err := e.b.IdentityOwner(e.ctx, a.ID, "7"); !errors.Is(err, store.ErrNotFound) {
		e.Fatalf("the users row's own identity has an owner: %v", err)
	}
	if got := subs(e.time()); !slices.Equal(got, []string{"7"}) {
		e.Fatalf("to check: %q", got)
	}
	if ids, err := e.b.IdentitiesToCheck(e.ctx, a.ID, e.time()); err != nil || len(ids) != 0 {
		e.Fatalf("the users row's own identity is listed as joined: %+v %v", ids, err)
	}
	e.advance(time.Hour)
	e.ok(e.a.MarkIdentityChecked(e.ctx, b.ID, "7"), "mark checked")
	if got := subs(e.time().Add(-time.Minute)); len(got) != 0 {
		e.Fatalf("to check after a check: %q", got)
	}
	e.ok(e.a.SetIdentityRevalidation(e.ctx, b.ID, "7", []byte("next")), "set the state")
	if ids, _ := e.b.Identities(e.ctx, p.UserID); len(ids) != 1 || string(ids[0].Revalidation) != "next" {
		e.Fatalf("the state: %+v", ids)
	}
	if changed, err := e.a.LeaveSource(e.ctx, p.UserID, b.ID); err != nil || !changed {
		e.Fatalf("leave b: %v %v", changed, err)
	}
	u, err := e.b.User(e.ctx, p.UserID)
	if err != nil || u.Disabled || u.HasGroupFrom("gb", b.ID) || !u.HasGroupFrom("ga", a.ID) {
		e.Fatalf("the person after leaving b: %+v %v", u, err)
	}
	if ids, _ := e.b.Identities(e.ctx, p.UserID); len(ids) != 0 {
		e.Fatalf("identities after leaving b: %+v", ids)
	}
	if changed, err := e.a.LeaveSource(e.ctx, p.UserID, b.ID); err != nil || changed {
		e.Fatalf("leaving b twice: %v %v", changed, err)
	}
	if back := e.joinLogin(e.a, b, "7", "plugin", "rb", "gb"); back.UserID != p.UserID {
		e.Fatalf("b admits the person again: %+v", back)
	}
}

// Two people of one subject in two sources of one plugin are a link candidate; linking moves
// the retired one's source groups, state and identities to the kept one, retires it (ended
// access, never a candidate again) and its source's next login is the kept person's.
func peopleLinkedByHand(e *env) {
	a, b := e.source("a"), e.source("b")
	older := e.joinLogin(e.a, a, "7", "", "ra", "ga")
	newer := e.joinLogin(e.a, b, "7", "", "rb", "gb")
	e.joinLogin(e.a, a, "8", "", "", "x") // another subject: no pair
	cs, err := e.b.LinkCandidates(e.ctx)
	e.ok(err, "link candidates")
	if len(cs) != 1 || cs[0].Older != older.UserID || cs[0].Newer != newer.UserID || cs[0].Subject != "7" || cs[0].PluginID != "plugin" {
		e.Fatalf("candidates: %+v", cs)
	}
	e.is(e.a.LinkPeople(e.ctx, older.UserID, older.UserID), store.ErrNotLinkable, "link a person with himself")
	e.ok(e.a.LinkPeople(e.ctx, older.UserID, newer.UserID), "link")
	kept, err := e.b.User(e.ctx, older.UserID)
	e.ok(err, "read the kept person")
	retired, err := e.b.User(e.ctx, newer.UserID)
	e.ok(err, "read the retired person")
	if !kept.HasGroupFrom("gb", b.ID) || !kept.HasGroupFrom("ga", a.ID) || retired.LinkedTo != older.UserID || !retired.Disabled || e.sessionLive(e.b, newer.Token) {
		e.Fatalf("after the link: kept %+v, retired %+v", kept.Memberships, retired)
	}
	if ids, _ := e.b.Identities(e.ctx, older.UserID); len(ids) != 1 || ids[0].SourceID != b.ID || string(ids[0].Revalidation) != "rb" {
		e.Fatalf("the kept person's identities: %+v", ids)
	}
	if cs, _ := e.b.LinkCandidates(e.ctx); len(cs) != 0 {
		e.Fatalf("candidates after the link: %+v", cs)
	}
	e.is(e.a.LinkPeople(e.ctx, older.UserID, newer.UserID), store.ErrNotLinkable, "link twice")
	if again := e.joinLogin(e.a, b, "7", "", "rb2", "gb2"); again.UserID != older.UserID || again.Disabled {
		e.Fatalf("b's login after the link: %+v", again)
	}
	if u, _ := e.b.User(e.ctx, older.UserID); u.HasGroupFrom("gb", b.ID) || !u.HasGroupFrom("gb2", b.ID) {
		e.Fatalf("b's login replaced other groups: %+v", u.Memberships)
	}
	// Deleting the kept person deletes the one retired into them: b's next login is a new person.
	e.ok(e.a.DeleteUser(e.ctx, older.UserID), "delete the kept person")
	if _, err := e.b.User(e.ctx, newer.UserID); !errors.Is(err, store.ErrNotFound) {
		e.Fatalf("the retired person outlived the kept one: %v", err)
	}
	if fresh := e.joinLogin(e.a, b, "7", "", "", "gb"); fresh.UserID == older.UserID || fresh.UserID == newer.UserID || fresh.Disabled || fresh.Token == "" {
		e.Fatalf("b's login after the kept person was deleted: %+v", fresh)
	}
}

// A person every source refused (re-validation disabled them) who then signs in through
// another source of the plugin is enabled again with that source's groups only: the refused
// sources' groups (which an admin grant of theirs may match) do not come back with him.
func joinAfterRefusalTakesNoStaleGroups(e *env) {
	a, b := e.source("a"), e.source("b")
	first := e.joinLogin(e.a, a, "9", "plugin", "ra", "admins")
	e.ok(e.a.SetDisabled(e.ctx, first.UserID, true, store.DisabledByRevalidation), "re-validation disables him")
	done := e.joinLogin(e.a, b, "9", "plugin", "rb", "gb")
	if done.UserID != first.UserID || done.Disabled {
		e.Fatalf("the login through b: %+v, want user %d enabled", done, first.UserID)
	}
	u, err := e.b.User(e.ctx, first.UserID)
	e.ok(err, "read the person")
	if u.HasGroupFrom("admins", a.ID) || !u.HasGroupFrom("gb", b.ID) {
		e.Fatalf("a refused source's groups came back with a join: %+v", u.Memberships)
	}
}
