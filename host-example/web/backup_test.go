package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/host-example/web"
)

// A backup taken while the host serves, restored with its key into a new data folder,
// serves the same people: the sealed owner token opens, a friend logs in as the same user,
// the admin password still works. A key of another host is refused.
func TestBackupRestoreThenLogin(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	if p := h.browser().login("plex", "friend"); p.Status != http.StatusSeeOther || p.Location != "/profile" {
		t.Fatalf("login before the backup: %d %s", p.Status, p.Location)
	}
	ctx := context.Background()
	dir := t.TempDir()
	backup, key := filepath.Join(dir, "host.backup"), filepath.Join(dir, "host.key")
	if err := h.store.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := h.store.Backup(ctx, backup); err == nil {
		t.Fatal("a backup replaced an existing file")
	}
	if err := store.ExportKey(h.dataDir, key); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{backup, key} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want mode 0600", p, fi.Mode(), err)
		}
	}

	otherHost := t.TempDir()
	if st, err := store.Open(otherHost); err == nil {
		st.Close()
	}
	if err := store.Restore(ctx, filepath.Join(t.TempDir(), "data"), backup, filepath.Join(otherHost, store.KeyFile)); !errors.Is(err, store.ErrKeyMismatch) {
		t.Fatalf("restore with another host's key: %v", err)
	}
	if err := store.Restore(ctx, h.dataDir, backup, key); err == nil {
		t.Fatal("restore over a live data folder")
	}

	restored := filepath.Join(t.TempDir(), "data")
	if err := store.Restore(ctx, restored, backup, key); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(restored)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	host := httptest.NewUnstartedServer(nil)
	pub, _ := url.Parse("http://" + host.Listener.Addr().String())
	srv, err := web.New(web.Config{PublicURL: pub, LoginRate: 1000}, st, map[string]*web.Plugin{"plex": h.srv.Plugin("plex")})
	if err != nil {
		t.Fatal(err)
	}
	host.Config.Handler = srv
	host.Start()
	defer host.Close()
	h2 := &harness{t: t, sim: h.sim, simURL: h.simURL, host: host, srv: srv, store: st, dataDir: restored, owner: h.owner}
	b := h2.browser()
	if p := b.login("plex", "friend"); p.Status != http.StatusSeeOther || p.Location != "/profile" {
		t.Fatalf("login after the restore: %d %s %.300s", p.Status, p.Location, p.Body)
	}
	users, err := st.Users(ctx)
	if err != nil || len(users) != 1 || users[0].Username != "frank" {
		t.Fatalf("users after the restore: %d %v", len(users), err)
	}
	b.adminLogin()
}
