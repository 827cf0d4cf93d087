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

var secretRE = regexp.MustCompile(`id="new-secret"><strong>Client secret, shown once:</strong> <code>([0-9a-f]{64})</code>`)

// An admin registers an application; its secret is shown once and works; the database keeps only its hash.
func TestAdminRegistersAClient(t *testing.T) {
	d := newIDP(t)
	a := d.browser()
	a.AdminLogin(adminPassword)
	p := a.Do("GET", "/admin/clients/new", nil)
	csrf := p.CSRF()
	form := url.Values{"csrf": {csrf}, "name": {"Grafana"}, "client_id": {"grafana"}, "redirect_uris": {"http://x.example/cb"}}
	if p := a.Do("POST", "/admin/clients", form); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "loopback") {
		t.Fatalf("http redirect on a public host: %d", p.Status)
	}
	form.Set("redirect_uris", "http://127.0.0.1:9/grafana\nhttps://grafana.example.com/login/generic_oauth")
	form.Set("allowed_groups", "plex-friend")
	p = a.Do("POST", "/admin/clients", form)
	m := secretRE.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	if again := a.Do("GET", "/admin/clients", nil); strings.Contains(again.Body, m[1]) {
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
	if !strings.HasPrefix(p.Redirect, "http://127.0.0.1:9/grafana?") {
		t.Fatalf("login to the new client: %d %s", p.Status, p.Redirect)
	}
	// A file client is read-only.
	c, _ := d.store.OIDCClientByID(context.Background(), rpID)
	c.Origin = "file"
	_ = d.store.PutOIDCClient(context.Background(), *c)
	if p := a.Do("GET", "/admin/clients/"+rpID, nil); p.Status != http.StatusForbidden {
		t.Fatalf("edit a file client: %d", p.Status)
	}
	if p := a.Do("POST", "/admin/clients/"+rpID+"/delete", url.Values{"csrf": {csrf}}); p.Status != http.StatusForbidden {
		t.Fatalf("delete a file client: %d", p.Status)
	}
	// Deleting a UI client ends it.
	if p := a.Do("POST", "/admin/clients/grafana/delete", url.Values{"csrf": {csrf}}); p.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.Status)
	}
	if _, err := d.store.OIDCClientByID(context.Background(), "grafana"); err != store.ErrNotFound {
		t.Fatalf("deleted client: %v", err)
	}
}
