package storetest

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

var sourceChecks = []check{
	{"SourceCreateAndRead", sourceCreateAndRead},
	{"SourceConfigAndDraft", sourceConfigAndDraft},
	{"SourceDisableEndsAccess", sourceDisableEndsAccess},
}

// A source is created off with an empty draft, read by id and slug on either handle, listed by
// name; a second source with the same slug is refused.
func sourceCreateAndRead(e *env) {
	z, err := e.a.CreateSource(e.ctx, "plugin-z", "zeta", "Zeta")
	e.ok(err, "create zeta")
	y, err := e.a.CreateSource(e.ctx, "plugin-y", "alpha", "Alpha")
	e.ok(err, "create alpha")
	got, err := e.b.Source(e.ctx, z.ID)
	e.ok(err, "read by id")
	if got.PluginID != "plugin-z" || got.Slug != "zeta" || got.Name != "Zeta" || got.Enabled || got.Config != nil || string(got.Draft) != `{}` {
		e.Fatalf("new source: %+v (draft %s)", got, got.Draft)
	}
	if got, err := e.b.SourceBySlug(e.ctx, "alpha"); err != nil || got.ID != y.ID {
		e.Fatalf("by slug: %+v %v", got, err)
	}
	all, err := e.b.Sources(e.ctx)
	e.ok(err, "list")
	if len(all) != 2 || all[0].ID != y.ID || all[1].ID != z.ID {
		e.Fatalf("sources by name: %+v", all)
	}
	if _, err := e.b.CreateSource(e.ctx, "plugin-x", "zeta", "Other"); err == nil {
		e.Fatal("a second source with the same slug was created")
	}
	_, err = e.b.Source(e.ctx, "no-such-source")
	e.is(err, store.ErrNotFound, "unknown source")
	_, err = e.b.SourceBySlug(e.ctx, "no-such-slug")
	e.is(err, store.ErrNotFound, "unknown slug")
}

// A validated config bumps the version and clears the draft; a draft keeps the config; a
// discarded draft is gone, except a never-saved source's empty one.
func sourceConfigAndDraft(e *env) {
	src, err := e.a.CreateSource(e.ctx, "plugin", "s", "S")
	e.ok(err, "create")
	e.ok(e.a.DiscardDraft(e.ctx, src.ID), "discard a never-saved draft")
	if got, _ := e.b.Source(e.ctx, src.ID); got == nil || string(got.Draft) != `{}` || got.Config != nil {
		e.Fatalf("never-saved source after a discard: %+v", got)
	}
	v1, err := e.a.SaveConfig(e.ctx, src.ID, json.RawMessage(`{"n":1}`))
	e.ok(err, "save config")
	v2, err := e.b.SaveConfig(e.ctx, src.ID, json.RawMessage(`{"n":2}`))
	e.ok(err, "save config again")
	if v2 != v1+1 || v1 < 1 {
		e.Fatalf("config versions %d then %d", v1, v2)
	}
	e.ok(e.a.SaveDraft(e.ctx, src.ID, json.RawMessage(`{"n":"bad"}`)), "save draft")
	got, err := e.b.Source(e.ctx, src.ID)
	e.ok(err, "read")
	if string(got.Config) != `{"n":2}` || string(got.Draft) != `{"n":"bad"}` || got.ConfigVersion != v2 {
		e.Fatalf("config %s draft %s version %d", got.Config, got.Draft, got.ConfigVersion)
	}
	e.ok(e.a.DiscardDraft(e.ctx, src.ID), "discard")
	if got, _ := e.b.Source(e.ctx, src.ID); got == nil || got.Draft != nil || string(got.Config) != `{"n":2}` {
		e.Fatalf("after a discard: %+v", got)
	}
	e.ok(e.a.SaveDraft(e.ctx, src.ID, json.RawMessage(`{"n":3}`)), "save draft")
	if _, err := e.a.SaveConfig(e.ctx, src.ID, json.RawMessage(`{"n":3}`)); err != nil {
		e.Fatal(err)
	}
	if got, _ := e.b.Source(e.ctx, src.ID); got == nil || got.Draft != nil {
		e.Fatalf("a saved config left the draft: %+v", got)
	}
}

// Turning a source off ends its users' sessions (host and forward-auth), revokes their tokens,
// deletes their credentials, and says so (AccessRevoked); other sources' users keep theirs.
// Turned on again, its users log in anew.
func sourceDisableEndsAccess(e *env) {
	src, other := e.source("off"), e.source("on")
	u := e.login(e.a, src, "1", "")
	keep := e.login(e.a, other, "2", "")
	for _, d := range []*store.LoginDone{u, keep} {
		_, _, err := e.a.CreateForwardSession(e.ctx, "fwd-"+d.Token, d.SessionID, time.Hour)
		e.ok(err, "forward session")
		e.ok(e.a.PutAccessToken(e.ctx, store.AccessToken{ID: "at-" + d.Token, GrantID: "g", ClientID: "c", UserID: d.UserID,
			Expires: e.time().Add(time.Hour)}), "access token")
	}
	before := e.b.Changes().Version(store.AccessRevoked)
	e.ok(e.b.SetEnabled(e.ctx, src.ID, false), "disable")
	if e.b.Changes().Version(store.AccessRevoked) == before {
		e.Error("turning a source off was not announced as AccessRevoked")
	}
	if got, _ := e.a.Source(e.ctx, src.ID); got == nil || got.Enabled {
		e.Fatalf("source still on: %+v", got)
	}
	if e.sessionLive(e.a, u.Token) {
		e.Error("session of a source turned off still live")
	}
	if _, _, err := e.a.ForwardSession(e.ctx, "fwd-"+u.Token); !errors.Is(err, store.ErrNotFound) {
		e.Errorf("forward-auth session of a source turned off: %v", err)
	}
	if _, err := e.a.LiveAccessToken(e.ctx, "at-"+u.Token); !errors.Is(err, store.ErrNotFound) {
		e.Errorf("access token of a source turned off: %v", err)
	}
	if !e.sessionLive(e.a, keep.Token) {
		e.Error("another source's session ended")
	}
	if _, _, err := e.a.ForwardSession(e.ctx, "fwd-"+keep.Token); err != nil {
		e.Errorf("another source's forward-auth session: %v", err)
	}
	if _, err := e.a.LiveAccessToken(e.ctx, "at-"+keep.Token); err != nil {
		e.Errorf("another source's access token: %v", err)
	}
	e.ok(e.a.SetEnabled(e.ctx, src.ID, true), "enable again")
	if e.sessionLive(e.b, u.Token) {
		e.Error("a session ended by turning the source off came back")
	}
	if again := e.login(e.b, src, "1", ""); again.UserID != u.UserID || !e.sessionLive(e.a, again.Token) {
		e.Errorf("login after turning on again: %+v", again)
	}
}
