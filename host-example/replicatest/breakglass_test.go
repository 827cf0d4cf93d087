package replicatest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
)

// The break-glass on replicas: the reset runs on the shared database (as reset-admin-password
// -database does); during a guessing attack that has filled the limit shared by unknown
// browsers, the recovery link is opened on one replica and the new password sent to another,
// which lets the admin in; used, the link opens nothing on a third.
func testBreakGlassAcrossReplicas(t *testing.T, c *cluster) {
	ctx := context.Background()
	reset, err := host.NewAdmin(c.st, nil).Reset(ctx, adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	for range 25 { // the attack: wrong passwords from many addresses fill the unknown browsers' limit
		if _, err := c.st.ClaimGuess(ctx, "admin/all", 20, 3*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	plain := c.browser(t, c.replicas[2].addr)
	if p := plain.Get(c.auth + "/admin/login"); p.CSRF() == "" {
		t.Fatalf("no admin login form: %d %.300s", p.Status, p.Body)
	}
	if p := plain.Submit(c.auth+"/admin/login", url.Values{"password": {adminPassword}}); p.Status != http.StatusTooManyRequests {
		t.Fatalf("an unknown browser during the attack, without the link: %d", p.Status)
	}
	b := c.viaNginx(t)
	link := c.auth + host.RecoveryPath + reset.Recovery
	p := b.Via(c.replicas[0].addr).Get(link)
	csrf := p.CSRF()
	if p.Status != http.StatusOK || csrf == "" || !strings.Contains(p.Body, `name="recovery"`) {
		t.Fatalf("the recovery link on %s: %d %.300s", c.replicas[0].name, p.Status, p.Body)
	}
	p = b.Via(c.replicas[1].addr).PostForm(c.auth+"/admin/login",
		url.Values{"csrf": {csrf}, "password": {adminPassword}, "recovery": {reset.Recovery}})
	if p.Status != http.StatusSeeOther || !strings.HasSuffix(p.Redirect, "/admin") {
		t.Fatalf("the new password through the link on %s during the attack: %d %s %.300s", c.replicas[1].name, p.Status, p.Redirect, p.Body)
	}
	if p = plain.Get(link); p.Status != http.StatusForbidden {
		t.Fatalf("the used link on %s: %d", c.replicas[2].name, p.Status)
	}
}
