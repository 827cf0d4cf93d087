package systemtest_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/postgrestest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Issue 28 #1: two replicas on one PostgreSQL. The code is minted by the replica that answers
// the public host and redeemed by the one that answers the bridge (the code lives in the
// database); replayed on the first, it gets nothing.
func TestHandoverAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := postgrestest.Start(t).NewDatabase(t)
	dir := t.TempDir()
	pub, _ := url.Parse("http://auth.example.test")
	var stores [2]*store.Store
	var fas [2]*forwardauth.Service
	for i := range stores {
		st, err := store.OpenWith(ctx, store.Options{Database: dsn, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		a, err := app.New(ctx, app.Config{PublicURL: pub, Store: st, CookieDomain: "example.test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		if fas[i], err = forwardauth.New(forwardauth.Options{PublicURL: pub, CookieDomain: "example.test", Store: st, Sessions: a.Sessions, Pages: a.Web, Kinds: kinds{}}); err != nil {
			t.Fatal(err)
		}
		stores[i] = st
	}
	st := stores[0]
	src, err := st.CreateSource(ctx, "plex", "plex", "Plex")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetEnabled(ctx, src.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutForwardRule(ctx, store.ForwardRule{Host: "web.example.test", Handover: webKind.Kind}); err != nil {
		t.Fatal(err)
	}
	done, err := st.FinishLogin(ctx, store.User{SourceID: src.ID, Subject: "2", Username: "frank", Groups: []string{"plex-friend"},
		Credentials: []store.Credential{{Kind: webKind.Kind, Value: secretToken}}}, store.Event{Kind: "login_allowed"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	fwd, _, err := forwardauth.StartSession(ctx, st, done.SessionID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b := &handoverBrowser{t: t, fa: fas[0], pub: fas[1], origin: "http://web.example.test", app: map[string]string{"hx_forward": fwd},
		host: &http.Cookie{Name: "hx_session", Value: done.Token}}
	w, back := b.handOver("/")
	if !handedOver(w, secretToken) {
		t.Fatalf("minted on one replica, redeemed on the other: %d %s", w.Code, w.Body.String())
	}
	b.fa = fas[1]
	if w := b.bridge(back); w.Code != http.StatusForbidden || handedOver(w, secretToken) {
		t.Errorf("the code replayed on the replica that minted it: %d", w.Code)
	}
}
