package storetest

import (
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// A person's display attributes: the admin's edit, and a source's sync modes.
var displayChecks = []check{
	{"UserDisplayFirstLoginOnly", userDisplayFirstLoginOnly},
}

// A first-login-only display attribute keeps what the admin set at the next login, an
// every-login one follows the login; an e-mail the admin changes is not verified.
func userDisplayFirstLoginOnly(e *env) {
	src := e.source("s")
	u := store.User{SourceID: src.ID, Subject: "7", Username: "bob", Name: "Bob", Email: "b@example.org", EmailVerified: true,
		Picture: "https://pictures.example.org/1", Groups: []string{"g1"}}
	allowed := store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: "7"}
	first, err := e.a.FinishLogin(e.ctx, u, allowed, "", time.Hour)
	e.ok(err, "first login")
	id := first.UserID
	e.ok(e.a.SetDisplay(e.ctx, id, store.Display{Name: "Robert\u202e", Email: "r@example.org", Picture: "https://pictures.example.org/2"}), "set display")
	got, _ := e.b.User(e.ctx, id)
	if got.Name != "Robert" || got.Email != "r@example.org" || got.EmailVerified || got.Picture != "https://pictures.example.org/2" {
		e.Fatalf("after the admin's display edit: %+v", got)
	}
	e.ok(e.a.SetSourceSync(e.ctx, src.ID, store.DisplaySync{Name: store.SyncFirstLogin, Picture: store.SyncFirstLogin}), "set sync")
	now, err := e.b.Source(e.ctx, src.ID)
	e.ok(err, "read the source")
	if now.Sync != (store.DisplaySync{Name: store.SyncFirstLogin, Picture: store.SyncFirstLogin}) {
		e.Fatalf("sync modes read back: %+v", now.Sync)
	}
	e.advance(time.Minute)
	u.Groups, u.Email, u.Sync = []string{"g3"}, "b2@example.org", now.Sync
	_, err = e.b.FinishLogin(e.ctx, u, allowed, "", time.Hour)
	e.ok(err, "second login")
	got, _ = e.a.User(e.ctx, id)
	if got.Name != "Robert" || got.Picture != "https://pictures.example.org/2" || got.Email != "b2@example.org" || !got.EmailVerified ||
		len(got.Groups) != 1 || got.Groups[0] != "g3" {
		e.Fatalf("after a login (name and picture first login only): %+v", got)
	}
	e.is(e.a.SetDisplay(e.ctx, id+1000, store.Display{Name: "x"}), store.ErrNotFound, "display of nobody")
	e.is(e.a.SetSourceSync(e.ctx, "no-such-source", store.DisplaySync{}), store.ErrNotFound, "sync of no source")
}
