package openid_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/relyingparty"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The demo's app logs in through Plex end to end and shows the verified claims and groups;
// its logout ends the provider's session too.
func TestDemoRelyingParty(t *testing.T) {
	d := newIDP(t)
	rpSrv := httptest.NewUnstartedServer(nil)
	base := "http://" + rpSrv.Listener.Addr().String()
	d.addClient(store.OIDCClient{ID: "demo-rp", Name: "Demo app", SecretSHA256: openid.HashSecret("the-demo-rp-secret-0123"),
		RedirectURIs: []string{base + "/callback"}, PostLogoutURIs: []string{base + "/"}, GrantTypes: []string{openid.GrantCode}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app, err := relyingparty.New(ctx, relyingparty.Config{Issuer: d.issuer, ClientID: "demo-rp", ClientSecret: "the-demo-rp-secret-0123", PublicURL: base})
	if err != nil {
		t.Fatal(err)
	}
	rpSrv.Config.Handler = app.Handler()
	rpSrv.Start()
	defer rpSrv.Close()
	b := d.browser()
	if p := b.Do("GET", base+"/", nil); !strings.Contains(p.Body, "Log in with host-example") {
		t.Fatalf("home: %s", p.Body)
	}
	p := b.Follow(base + "/login")
	p = b.SignIn(p, "plex", "friend")
	if p.Status != 200 || !strings.Contains(p.Body, `id="hello"`) || !strings.Contains(p.Body, "frank") || !strings.Contains(p.Body, "plex-friend") {
		t.Fatalf("after login: %d %s %s", p.Status, p.Redirect, p.Body)
	}
	p = b.Follow(base + "/logout")
	if !strings.Contains(p.Body, "Log in with host-example") {
		t.Fatalf("after logout: %d %s", p.Status, p.Body)
	}
	if p := b.Do("GET", "/profile", nil); p.Status == 200 {
		t.Fatal("the provider's session survived the app's logout")
	}
}
