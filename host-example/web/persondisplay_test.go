package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// A name the admin corrected is kept at the next sign-in when the source sets names at the
// first login only; the groups are the source's of that sign-in (a share removed upstream
// loses its group), and an every-login e-mail edit lasts only until the sign-in. The source
// page and the dry run show the modes and what a sign-in keeps.
func TestFirstLoginOnlyNameKeptGroupsFollow(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	ctx := context.Background()
	h.sim.SetShare("friend", plexsim.ServerCabin, true)
	h.browser().Login("plex", "friend")
	frank, err := h.store.FindUser(ctx, src.ID, "frank")
	if err != nil || !frank.HasGroupFrom("plex-server:Cabin", src.ID) {
		t.Fatalf("frank's first sign-in: %+v %v", frank, err)
	}
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	page := "/admin/sources/" + src.ID
	if p := admin.Get(page); !strings.Contains(p.Body, `id="sync-modes"`) || !strings.Contains(p.Body, `<option value="every_login" selected>every login</option>`) {
		t.Fatalf("the source page does not show the sync modes:\n%s", p.Body)
	}
	if p := admin.Submit(page+"/sync", url.Values{"sync_name": {"first_login"}, "sync_email": {"every_login"}, "sync_picture": {"every_login"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("saving the sync modes: %d %s", p.Status, p.Body)
	}
	if p := admin.Get(page); !strings.Contains(p.Body, `<option value="first_login" selected>first login only</option>`) ||
		!strings.Contains(p.Body, "Sync modes saved: name at the first login only; e-mail, picture at every login") {
		t.Fatalf("the saved sync modes:\n%s", p.Body)
	}
	if p := admin.Submit(page+"/sync", url.Values{"sync_name": {"sometimes"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("a bad mode: %d", p.Status)
	}
	if s, _ := h.store.Source(ctx, src.ID); s.Sync.Name != store.SyncFirstLogin {
		t.Fatalf("a bad mode changed the modes: %+v", s.Sync)
	}

	person := "/admin/users/" + strconv.FormatInt(frank.ID, 10)
	if p := admin.Get(person); !strings.Contains(p.Body, `id="display-mode-name">Set at the first sign-in only`) || !strings.Contains(p.Body, `id="display-mode-email">Set again at every sign-in`) {
		t.Fatalf("the person page does not say which mode applies:\n%s", p.Body)
	}
	if p := admin.Submit(person+"/display", url.Values{"name": {"Frank F. (corrected)"}, "email": {"elsewhere@example.org"}, "picture": {frank.Picture}}); p.Status != http.StatusSeeOther {
		t.Fatalf("the admin's edit: %d %s", p.Status, p.Body)
	}
	if p := admin.Follow(admin.Last().Redirect); !strings.Contains(p.Body, "Their next sign-in sets the e-mail, picture again") {
		t.Fatalf("the edit's flash:\n%s", p.Body)
	}
	admin.Get(person)
	if p := admin.Submit(person+"/display", url.Values{"name": {"x"}, "picture": {"javascript:alert(1)"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("a bad picture: %d", p.Status)
	}
	if u, _ := h.store.User(ctx, frank.ID); u.Name != "Frank F. (corrected)" || u.Email != "elsewhere@example.org" || u.EmailVerified {
		t.Fatalf("after the admin's edit (and a refused one): %+v", u)
	}
	// The dry run shows what his sign-in keeps.
	admin.Get(page)
	if p := admin.Submit(page+"/dryrun", url.Values{"who": {"frank"}}); !strings.Contains(p.Body, `id="dryrun-kept"`) || !strings.Contains(p.Body, "Frank F. (corrected)") {
		t.Fatalf("the dry run does not show the kept name:\n%s", p.Body)
	}

	h.sim.SetShare("friend", plexsim.ServerCabin, false)
	restartPlugin(t, h) // drops the plugin's warm owner-list cache
	if p := h.browser().Login("plex", "friend"); p.Status != http.StatusSeeOther {
		t.Fatalf("frank's next sign-in: %d %s", p.Status, p.Body)
	}
	u, _ := h.store.User(ctx, frank.ID)
	if u.Name != "Frank F. (corrected)" {
		t.Errorf("the first-login-only name the admin corrected became %q at the next sign-in", u.Name)
	}
	if u.Email != frank.Email || u.EmailVerified != frank.EmailVerified {
		t.Errorf("the every-login e-mail after the sign-in: %q (verified %v), want the source's %q", u.Email, u.EmailVerified, frank.Email)
	}
	if u.HasGroupFrom("plex-server:Cabin", src.ID) || !u.HasGroupFrom("plex-server:Living Room", src.ID) {
		t.Errorf("the groups after a share was removed upstream: %+v", u.Memberships)
	}
}
