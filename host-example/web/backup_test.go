package web_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// A backup taken while the host serves, restored with its key into a new data folder,
// serves the same people: the sealed owner token opens, a friend logs in as the same user,
// the admin password still works. A key of another host is refused.
func TestBackupRestoreThenLogin(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	if p := h.browser().Login("plex", "friend"); p.Status != http.StatusSeeOther || p.Location != "/" {
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
	h2 := newHarnessOn(t, h.sim, h.simURL, nil, hosttest.Data(restored))
	st := h2.store
	b := h2.browser()
	if p := b.Login("plex", "friend"); p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("login after the restore: %d %s %.300s", p.Status, p.Location, p.Body)
	}
	users, err := st.Users(ctx)
	if err != nil || len(users) != 1 || users[0].Username != "frank" {
		t.Fatalf("users after the restore: %d %v", len(users), err)
	}
	b.AdminLogin(adminPassword)
}
