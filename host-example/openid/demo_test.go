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
	if p := b.do("GET", base+"/", nil); !strings.Contains(p.body, "Log in with host-example") {
		t.Fatalf("home: %s", p.body)
	}
	p := b.follow(base + "/login")
	p = b.plexLogin(p, "friend")
	if p.status != 200 || !strings.Contains(p.body, `id="hello"`) || !strings.Contains(p.body, "frank") || !strings.Contains(p.body, "plex-friend") {
		t.Fatalf("after login: %d %s %s", p.status, p.location, p.body)
	}
	p = b.follow(base + "/logout")
	if !strings.Contains(p.body, "Log in with host-example") {
		t.Fatalf("after logout: %d %s", p.status, p.body)
	}
	if p := b.do("GET", "/profile", nil); p.status == 200 {
		t.Fatal("the provider's session survived the app's logout")
	}
}
