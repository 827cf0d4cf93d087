package storetest

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var forwardChecks = []check{
	{"ForwardSessionCreateReadExpireDelete", forwardSessionCreateReadExpireDelete},
	{"ForwardSessionCapKeepsNewest", forwardSessionCapKeepsNewest},
	{"ForwardSessionNeedsALiveHostSession", forwardSessionNeedsALiveHostSession},
	{"ForwardRules", forwardRules},
	{"AppIcons", appIcons},
}

// forwardLive reports whether a forward-auth session is live, read on s.
func (e *env) forwardLive(s *store.Store, id string) bool {
	e.Helper()
	_, _, err := s.ForwardSession(e.ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.Fatalf("read forward-auth session: %v", err)
	}
	return err == nil
}

// A forward-auth session gives its user on either handle until it expires, is deleted, or its
// user is disabled.
func forwardSessionCreateReadExpireDelete(e *env) {
	src := e.source("s")
	alice := e.login(e.a, src, "1", "alice")
	uid := alice.UserID
	got, exp, err := e.a.CreateForwardSession(e.ctx, "f1", alice.SessionID, 30*time.Minute)
	if got != uid {
		e.Fatalf("the session is of user %d, want %d", got, uid)
	}
	e.ok(err, "create")
	if !exp.Equal(e.time().Add(30 * time.Minute)) {
		e.Fatalf("expiry %v, want %v", exp, e.time().Add(30*time.Minute))
	}
	// Asked to outlive its sign-in (an hour), it ends with it.
	_, exp2, err := e.a.CreateForwardSession(e.ctx, "f2", alice.SessionID, 2*time.Hour)
	e.ok(err, "create another")
	if !exp2.Equal(alice.ExpiresAt) {
		e.Fatalf("a forward-auth session ends %v, past its host session's end %v", exp2, alice.ExpiresAt)
	}
	u, gotExp, err := e.b.ForwardSession(e.ctx, "f1")
	e.ok(err, "read")
	if u.ID != uid || u.Username != "alice" || !gotExp.Equal(exp) {
		e.Fatalf("read %+v until %v", u, gotExp)
	}
	// Who the person is, as User reads it (what forward-auth's Remote-* headers are made of).
	carol, err := e.a.FinishLogin(e.ctx, store.User{SourceID: src.ID, Subject: "3", Username: "carol", Name: "Carol C", Email: "carol@example.test",
		Picture: "https://example.test/c.png", Groups: []string{"friends", "family"}}, store.Event{Kind: store.EventLoginAllowed, Subject: "3"}, "", time.Hour)
	e.ok(err, "carol's login")
	_, _, err = e.a.CreateForwardSession(e.ctx, "fc", carol.SessionID, time.Hour)
	e.ok(err, "carol's session")
	person, _, err := e.b.ForwardSession(e.ctx, "fc")
	e.ok(err, "read carol's session")
	full, err := e.b.User(e.ctx, carol.UserID)
	e.ok(err, "read carol")
	if person.ID != full.ID || person.PublicID != full.PublicID || person.SourceID != full.SourceID || person.Subject != full.Subject ||
		person.Username != full.Username || person.Name != full.Name || person.Email != full.Email || person.Picture != full.Picture ||
		!slices.Equal(person.Groups, full.Groups) || !slices.Equal(person.Groups, []string{"family", "friends"}) && !slices.Equal(person.Groups, []string{"friends", "family"}) {
		e.Fatalf("forward-auth session's person %+v, the user %+v", person, full)
	}
	if e.forwardLive(e.b, "no-such-session") {
		e.Fatal("unknown forward-auth session live")
	}
	e.advance(30 * time.Minute)
	if e.forwardLive(e.b, "f1") || !e.forwardLive(e.b, "f2") {
		e.Fatal("expiry")
	}
	before := e.a.Changes().Version(store.AccessRevoked)
	e.ok(e.a.DeleteForwardSession(e.ctx, "f2"), "delete")
	if e.a.Changes().Version(store.AccessRevoked) == before {
		e.Error("a forward-auth log-out was not announced as AccessRevoked")
	}
	if e.forwardLive(e.b, "f2") {
		e.Fatal("deleted forward-auth session live")
	}
	e.advance(30 * time.Minute)
	_, _, err = e.a.CreateForwardSession(e.ctx, "f3", alice.SessionID, time.Hour)
	if !errors.Is(err, store.ErrAccessEnded) {
		e.Fatalf("a forward-auth session made on an expired host session: %v", err)
	}
	_, _, err = e.a.CreateForwardSession(e.ctx, "f3", e.login(e.a, src, "1", "alice").SessionID, time.Hour)
	e.ok(err, "create")
	e.ok(e.b.SetDisabled(e.ctx, uid, true, store.DisabledByAdmin), "disable")
	if e.forwardLive(e.a, "f3") {
		e.Fatal("a disabled user's forward-auth session live")
	}
}

// A user keeps the newest MaxForwardSessions forward-auth sessions, those minted within the
// same second (the clock's unit here) in the order they were minted; ending the oldest is
// announced; another user's sessions are kept.
func forwardSessionCapKeepsNewest(e *env) {
	src := e.source("s")
	alice, bob := e.login(e.a, src, "1", "").SessionID, e.login(e.a, src, "2", "").SessionID
	_, _, err := e.a.CreateForwardSession(e.ctx, "bob", bob, time.Hour)
	e.ok(err, "bob's session")
	for _, tick := range []time.Duration{time.Second, 0} {
		var ids []string
		for i := range store.MaxForwardSessions + 2 {
			e.advance(tick)
			s := e.a
			if i%2 == 1 {
				s = e.b
			}
			id := fmt.Sprintf("alice-%v-%d", tick, i)
			_, _, err := s.CreateForwardSession(e.ctx, id, alice, time.Hour)
			e.ok(err, "alice's session")
			ids = append(ids, id)
		}
		before := e.b.Changes().Version(store.AccessRevoked)
		id := fmt.Sprintf("alice-%v-last", tick)
		_, _, err := e.b.CreateForwardSession(e.ctx, id, alice, time.Hour)
		e.ok(err, "one more")
		ids = append(ids, id)
		if e.b.Changes().Version(store.AccessRevoked) == before {
			e.Errorf("tick %v: ending the oldest session was not announced", tick)
		}
		var live []string
		for _, id := range ids {
			if e.forwardLive(e.a, id) {
				live = append(live, id)
			}
		}
		if want := ids[len(ids)-store.MaxForwardSessions:]; !slices.Equal(live, want) {
			e.Errorf("tick %v: live %v, want %v", tick, live, want)
		}
	}
	if !e.forwardLive(e.a, "bob") {
		e.Error("another user's session ended")
	}
}

// Rules are created (an id made), replaced by id, listed by host and path on either handle,
// refused twice for one host and path, and deleted; each change is announced.
func forwardRules(e *env) {
	changed := func(s *store.Store, f func()) {
		e.Helper()
		before := s.Changes().Version(store.ForwardRules)
		f()
		if s.Changes().Version(store.ForwardRules) == before {
			e.Error("a rule change was not announced")
		}
	}
	r := store.ForwardRule{Name: "App", Host: "b.example.org", PathPrefix: "/x", Groups: []string{"g1"}, Bypass: []string{"/api"},
		BypassOptions: true, AllowEncodedSlash: true, Handover: "acme.token"}
	var id string
	changed(e.a, func() {
		var err error
		id, err = e.a.PutForwardRule(e.ctx, r)
		e.ok(err, "create")
	})
	other, err := e.b.PutForwardRule(e.ctx, store.ForwardRule{Host: "a.example.org"})
	e.ok(err, "create another")
	if id == "" || other == "" || id == other {
		e.Fatalf("ids %q %q", id, other)
	}
	rules, err := e.b.ForwardRules(e.ctx)
	e.ok(err, "list")
	r.ID = id
	if len(rules) != 2 || rules[0].ID != other || rules[1].Host != r.Host || !slices.Equal(rules[1].Groups, r.Groups) ||
		!slices.Equal(rules[1].Bypass, r.Bypass) || rules[1].Name != r.Name || rules[1].PathPrefix != r.PathPrefix ||
		!rules[1].BypassOptions || !rules[1].AllowEncodedSlash || rules[1].Handover != "acme.token" {
		e.Fatalf("rules: %+v", rules)
	}
	_, err = e.a.PutForwardRule(e.ctx, store.ForwardRule{Host: "b.example.org", PathPrefix: "/x"})
	e.is(err, store.ErrDuplicateRule, "a second rule for one host and path")
	r.Groups, r.Handover = nil, ""
	changed(e.b, func() {
		got, err := e.b.PutForwardRule(e.ctx, r)
		if err != nil || got != id {
			e.Fatalf("replace: %q %v", got, err)
		}
	})
	changed(e.a, func() { e.ok(e.a.DeleteForwardRule(e.ctx, other), "delete") })
	rules, err = e.b.ForwardRules(e.ctx)
	e.ok(err, "list")
	if len(rules) != 1 || rules[0].ID != id || len(rules[0].Groups) != 0 || rules[0].Handover != "" {
		e.Fatalf("after a replace and a delete: %+v", rules)
	}
}

// A forward-auth session is made only for a live host session of a person who is on, of a
// source that is on: after Sign out everywhere, Disable or the source turned off (each read
// on the other handle), asking with the ended host session makes none (ErrAccessEnded).
func forwardSessionNeedsALiveHostSession(e *env) {
	src := e.source("s")
	ends := []struct {
		name string
		end  func(d *store.LoginDone) error
	}{
		{"sign out everywhere", func(d *store.LoginDone) error { return e.b.SignOutEverywhere(e.ctx, d.UserID) }},
		{"disable", func(d *store.LoginDone) error { return e.b.SetDisabled(e.ctx, d.UserID, true, store.DisabledByAdmin) }},
		{"source off", func(*store.LoginDone) error { return e.b.SetEnabled(e.ctx, src.ID, false) }},
	}
	for i, end := range ends {
		d := e.login(e.a, src, fmt.Sprint("live-", i), "")
		uid, _, err := e.a.CreateForwardSession(e.ctx, fmt.Sprint("before-", i), d.SessionID, time.Hour)
		e.ok(err, "a forward-auth session of a live host session")
		if uid != d.UserID {
			e.Fatalf("%s: the session is of user %d, want %d", end.name, uid, d.UserID)
		}
		e.ok(end.end(d), end.name)
		if _, _, err := e.a.CreateForwardSession(e.ctx, fmt.Sprint("after-", i), d.SessionID, time.Hour); !errors.Is(err, store.ErrAccessEnded) {
			e.Fatalf("%s: a forward-auth session made after it: %v", end.name, err)
		}
		if e.forwardLive(e.b, fmt.Sprint("after-", i)) || e.forwardLive(e.b, fmt.Sprint("before-", i)) {
			e.Fatalf("%s: a forward-auth session lives after it", end.name)
		}
	}
	e.ok(e.a.SetEnabled(e.ctx, src.ID, true), "source on again")
}

// An app's icon is stored, read on either handle with its type and bytes, replaced, listed by
// stamp, removed, and deleted with its app (a rule or a client) but not with another kind's.
func appIcons(e *env) {
	png := []byte("\x89PNG\r\n\x1a\nicon")
	id, err := e.a.PutForwardRule(e.ctx, store.ForwardRule{Host: "icon.example.org"})
	e.ok(err, "create a rule")
	e.ok(e.a.PutOIDCClient(e.ctx, store.OIDCClient{ID: id, Name: "Same id", Origin: "ui"}), "a client of the rule's id")
	_, err = e.b.AppIcon(e.ctx, store.RuleIcon, id)
	e.is(err, store.ErrNotFound, "no icon yet")
	e.ok(e.a.PutAppIcon(e.ctx, store.AppIcon{Kind: store.RuleIcon, AppID: id, ContentType: "image/png", Data: png}), "put")
	e.ok(e.a.PutAppIcon(e.ctx, store.AppIcon{Kind: store.ClientIcon, AppID: id, ContentType: "image/webp", Data: []byte("RIFF")}), "put the client's")
	got, err := e.b.AppIcon(e.ctx, store.RuleIcon, id)
	e.ok(err, "read")
	if got.ContentType != "image/png" || string(got.Data) != string(png) || !got.UpdatedAt.Equal(e.time()) {
		e.Fatalf("read %+v", got)
	}
	e.ok(e.b.PutAppIcon(e.ctx, store.AppIcon{Kind: store.RuleIcon, AppID: id, ContentType: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff}}), "replace")
	if got, err := e.a.AppIcon(e.ctx, store.RuleIcon, id); err != nil || got.ContentType != "image/jpeg" || len(got.Data) != 3 {
		e.Fatalf("replaced: %+v %v", got, err)
	}
	stamps, err := e.b.AppIconStamps(e.ctx)
	e.ok(err, "stamps")
	if len(stamps) != 2 || stamps[store.AppIconRef{Kind: store.RuleIcon, AppID: id}].IsZero() {
		e.Fatalf("stamps %v", stamps)
	}
	e.ok(e.b.DeleteForwardRule(e.ctx, id), "delete the rule")
	_, err = e.a.AppIcon(e.ctx, store.RuleIcon, id)
	e.is(err, store.ErrNotFound, "a deleted rule's icon")
	if _, err := e.a.AppIcon(e.ctx, store.ClientIcon, id); err != nil {
		e.Fatalf("deleting a rule deleted the client's icon of the same id: %v", err)
	}
	e.ok(e.a.DeleteOIDCClient(e.ctx, id), "delete the client")
	_, err = e.b.AppIcon(e.ctx, store.ClientIcon, id)
	e.is(err, store.ErrNotFound, "a deleted client's icon")
	e.ok(e.a.PutAppIcon(e.ctx, store.AppIcon{Kind: store.RuleIcon, AppID: "x", ContentType: "image/png", Data: png}), "put")
	e.ok(e.b.DeleteAppIcon(e.ctx, store.RuleIcon, "x"), "remove")
	e.ok(e.b.DeleteAppIcon(e.ctx, store.RuleIcon, "x"), "remove none")
	if stamps, _ := e.a.AppIconStamps(e.ctx); len(stamps) != 0 {
		e.Fatalf("after removing: %v", stamps)
	}
}
