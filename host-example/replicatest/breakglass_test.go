package replicatest

import (
	"context"
	"net/http"
	"net/http/cookiejar"
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
	login := func(hc *http.Client, extra url.Values) page {
		t.Helper()
		p := do(t, hc, "GET", c.auth+"/admin/login", nil, nil)
		m := csrfRE.FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no admin login form: %d %.300s", p.status, p.body)
		}
		form := url.Values{"csrf": {m[1]}, "password": {adminPassword}}
		for k, v := range extra {
			form[k] = v
		}
		return do(t, hc, "POST", c.auth+"/admin/login", form, nil)
	}
	plainJar, _ := cookiejar.New(nil)
	if p := login(client(c.replicas[2].addr, plainJar), nil); p.status != http.StatusTooManyRequests {
		t.Fatalf("an unknown browser during the attack, without the link: %d", p.status)
	}
	jar, _ := cookiejar.New(nil)
	link := c.auth + host.RecoveryPath + reset.Recovery
	p := do(t, client(c.replicas[0].addr, jar), "GET", link, nil, nil)
	csrf := csrfRE.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || csrf == nil || !strings.Contains(p.body, `name="recovery"`) {
		t.Fatalf("the recovery link on %s: %d %.300s", c.replicas[0].name, p.status, p.body)
	}
	p = do(t, client(c.replicas[1].addr, jar), "POST", c.auth+"/admin/login",
		url.Values{"csrf": {csrf[1]}, "password": {adminPassword}, "recovery": {reset.Recovery}}, nil)
	if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "/admin") {
		t.Fatalf("the new password through the link on %s during the attack: %d %s %.300s", c.replicas[1].name, p.status, p.location, p.body)
	}
	if p = do(t, client(c.replicas[2].addr, plainJar), "GET", link, nil, nil); p.status != http.StatusForbidden {
		t.Fatalf("the used link on %s: %d", c.replicas[2].name, p.status)
	}
}
