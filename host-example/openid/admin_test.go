package openid_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
)

func (b *browser) adminLogin() {
	b.d.t.Helper()
	p := b.do("GET", "/admin/login", nil)
	p = b.do("POST", "/admin/login", url.Values{"csrf": {csrfRE.FindStringSubmatch(p.body)[1]}, "password": {adminPassword}})
	if p.status != http.StatusSeeOther {
		b.d.t.Fatalf("admin login: %d", p.status)
	}
}

var secretRE = regexp.MustCompile(`id="new-secret"><strong>Client secret, shown once:</strong> <code>([0-9a-f]{64})</code>`)

// An admin registers an application; its secret is shown once and works; the database keeps only its hash.
func TestAdminRegistersAClient(t *testing.T) {
	d := newIDP(t)
	a := d.browser()
	a.adminLogin()
	p := a.do("GET", "/admin/clients/new", nil)
	csrf := csrfRE.FindStringSubmatch(p.body)[1]
	form := url.Values{"csrf": {csrf}, "name": {"Grafana"}, "client_id": {"grafana"}, "redirect_uris": {"http://x.example/cb"}}
	if p := a.do("POST", "/admin/clients", form); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "loopback") {
		t.Fatalf("http redirect on a public host: %d", p.status)
	}
	form.Set("redirect_uris", "http://127.0.0.1:9/grafana\nhttps://grafana.example.com/login/generic_oauth")
	form.Set("allowed_groups", "plex-friend")
	p = a.do("POST", "/admin/clients", form)
	m := secretRE.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		t.Fatalf("create: %d %s", p.status, p.body)
	}
	if again := a.do("GET", "/admin/clients", nil); strings.Contains(again.body, m[1]) {
		t.Fatal("the secret is shown a second time")
	}
	raw, _ := os.ReadFile(filepath.Join(d.dataDir, "host.db"))
	wal, _ := os.ReadFile(filepath.Join(d.dataDir, "host.db-wal"))
	if strings.Contains(string(raw)+string(wal), m[1]) {
		t.Fatal("the client secret is in the database in clear")
	}
	r := d.rp()
	r.config.ClientID, r.config.ClientSecret, r.config.RedirectURL = "grafana", m[1], "http://127.0.0.1:9/grafana"
	p = d.browser().authorize(r.config.AuthCodeURL("s", s256()), "friend")
	if !strings.HasPrefix(p.location, "http://127.0.0.1:9/grafana?") {
		t.Fatalf("login to the new client: %d %s", p.status, p.location)
	}
	// A file client is read-only.
	c, _ := d.store.OIDCClientByID(context.Background(), rpID)
	c.Origin = "file"
	_ = d.store.PutOIDCClient(context.Background(), *c)
	if p := a.do("GET", "/admin/clients/"+rpID, nil); p.status != http.StatusForbidden {
		t.Fatalf("edit a file client: %d", p.status)
	}
	if p := a.do("POST", "/admin/clients/"+rpID+"/delete", url.Values{"csrf": {csrf}}); p.status != http.StatusForbidden {
		t.Fatalf("delete a file client: %d", p.status)
	}
	// Deleting a UI client ends it.
	if p := a.do("POST", "/admin/clients/grafana/delete", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.status)
	}
	if _, err := d.store.OIDCClientByID(context.Background(), "grafana"); err != store.ErrNotFound {
		t.Fatalf("deleted client: %v", err)
	}
}
