package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

const tokenKind = "plex.token"

var ssoConfig = strings.Replace(membersConfig, `"access_mode"`, `"plex_web_sso":true,"access_mode"`, 1)

// plexUser is who plex.tv says a token is (0: refused).
func plexUser(t *testing.T, simURL, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", simURL+"/api/v2/user", nil)
	req.Header.Set("X-Plex-Token", token)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0
	}
	return resp.StatusCode
}

// kept is the friend's kept token ("" when none) and the friend's user id.
func kept(t *testing.T, h *harness) (string, int64) {
	t.Helper()
	ctx := context.Background()
	users, _ := h.store.Users(ctx)
	for _, u := range users {
		if u.Username == "frank" {
			c, err := h.store.UserCredential(ctx, u.ID, tokenKind)
			if err == store.ErrNotFound {
				return "", u.ID
			}
			if err != nil {
				t.Fatal(err)
			}
			return c.Value, u.ID
		}
	}
	t.Fatal("no frank")
	return "", 0
}

// With "Sign users into Plex Web" on, a login leaves the user's live plex.tv token with the
// host; turning the setting off deletes it, and a login then keeps none.
func TestPlexTokenKeptOnlyWhileTheSettingIsOn(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(ssoConfig)
	b := h.browser()
	if p := b.Login("plex", "friend"); p.Location != "/" {
		t.Fatal(p.Body)
	}
	tok, _ := kept(t, h)
	if tok == "" || plexUser(t, h.simURL, tok) == 0 {
		t.Fatalf("kept token %q is not a live plex.tv token", tok)
	}
	// The admin turns the setting off: every kept token of the source is deleted.
	cfg := map[string]any{}
	_ = json.Unmarshal([]byte(strings.Replace(membersConfig, "OWNER", h.owner, 1)), &cfg)
	if errs, err := h.srv.Sources.Save(context.Background(), src, cfg); err != nil || len(errs) > 0 {
		t.Fatal(errs, err)
	}
	if n, _ := h.store.CountCredentials(context.Background(), tokenKind); n != 0 {
		t.Fatalf("%d tokens kept after the setting was turned off", n)
	}
	if p := h.browser().Login("plex", "friend"); p.Location != "/" {
		t.Fatal(p.Body)
	}
	if n, _ := h.store.CountCredentials(context.Background(), tokenKind); n != 0 {
		t.Fatalf("%d tokens kept by a login with the setting off", n)
	}
}

// "Sign out everywhere" ends the sessions, deletes the kept token and signs it out at plex.tv;
// an admin's disabling does the same.
func TestSignOutEverywhereSignsThePlexTokenOut(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(ssoConfig)
	b := h.browser()
	b.Login("plex", "friend")
	tok, uid := kept(t, h)
	p := b.Do("GET", "/profile", nil)
	if !strings.Contains(p.Body, `id="logout-everywhere"`) {
		t.Fatal("no sign-out-everywhere button on the profile")
	}
	if p := b.Do("POST", "/logout/everywhere", url.Values{"csrf": {"0"}}); p.Status != http.StatusForbidden {
		t.Fatalf("without the page's CSRF token: %d", p.Status)
	}
	if p := b.Do("POST", "/logout/everywhere", url.Values{"csrf": {p.CSRF()}}); p.Location != "/login?signed_out=1" {
		t.Fatalf("sign out everywhere: %d %s", p.Status, p.Location)
	}
	if left, _ := kept(t, h); left != "" || plexUser(t, h.simURL, tok) != 0 {
		t.Fatalf("after signing out everywhere: kept %q, plex.tv still takes the token", left)
	}
	if p := b.Do("GET", "/profile", nil); p.Location != "/login" {
		t.Fatalf("session survived: %d", p.Status)
	}
	// Disabled by the admin: the next login's token is signed out too.
	b.Login("plex", "friend")
	tok, _ = kept(t, h)
	a := h.browser()
	a.AdminLogin(adminPassword)
	page := a.Do("GET", "/admin/users", nil)
	if p := a.Do("POST", "/admin/users/"+strconv.FormatInt(uid, 10)+"/disabled", url.Values{"csrf": {page.CSRF()}, "disabled": {"1"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", p.Status, p.Body)
	}
	if left, _ := kept(t, h); left != "" || plexUser(t, h.simURL, tok) != 0 {
		t.Fatalf("after disabling: kept %q, plex.tv still takes the token", left)
	}
}

// Issue 19 #4: once plex.tv refuses a kept token (signed out in Plex Web), re-validation
// falls back to the owner's lists: the host drops the token, and a friend whose share is
// then removed is found revoked.
func TestRevalidationAfterPlexRefusedTheKeptToken(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(ssoConfig)
	ctx := context.Background()
	h.browser().Login("plex", "friend")
	tok, uid := kept(t, h)
	signout, _ := http.NewRequest("DELETE", h.simURL+"/api/v2/users/signout", nil)
	signout.Header.Set("X-Plex-Token", tok)
	if resp, err := http.DefaultClient.Do(signout); err != nil || resp.StatusCode != 204 {
		t.Fatalf("sign the token out: %v %v", resp, err)
	}
	// Share still there: allowed by the owner's lists, the refused token dropped.
	if err := h.srv.Jobs.Revalidate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if u, _ := h.store.User(ctx, uid); u.Disabled {
		t.Fatal("disabled although the share is there")
	}
	if left, _ := kept(t, h); left != "" {
		t.Fatal("a token plex.tv refused is still kept")
	}
	// The owner removes the share: revoked.
	h.sim.SetShare("friend", plexsim.ServerLivingRoom, false)
	restartPlugin(t, h)
	if err := h.srv.Jobs.Revalidate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if u, _ := h.store.User(ctx, uid); !u.Disabled || u.DisabledReason != store.DisabledByRevalidation {
		t.Fatalf("not revoked after the share was removed: %+v", u)
	}
}

// The kept credential is the only copy: the re-validation state holds none (it used to, so
// turning the setting or the source off, or a failed sign-out at plex.tv, left a live token
// in users.reval_enc), and re-validation still uses the kept one.
func TestThePlexTokenIsKeptOnce(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(ssoConfig)
	ctx := context.Background()
	h.browser().Login("plex", "friend")
	tok, uid := kept(t, h)
	if tok == "" {
		t.Fatal("no token kept")
	}
	if u, _ := h.store.User(ctx, uid); strings.Contains(string(u.Revalidation), tok) {
		t.Fatalf("the re-validation state holds a second copy of the token: %s", u.Revalidation)
	}
	// Re-validation uses the kept copy: signed out at plex.tv, it is found refused and dropped.
	signout, _ := http.NewRequest("DELETE", h.simURL+"/api/v2/users/signout", nil)
	signout.Header.Set("X-Plex-Token", tok)
	if resp, err := http.DefaultClient.Do(signout); err != nil || resp.StatusCode != 204 {
		t.Fatalf("sign the token out: %v %v", resp, err)
	}
	if err := h.srv.Jobs.Revalidate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if left, _ := kept(t, h); left != "" {
		t.Fatal("re-validation did not use the kept token")
	}
	// The setting turned off: no copy of a live token is left anywhere the host reads.
	h.browser().Login("plex", "friend")
	tok, _ = kept(t, h)
	cfg := map[string]any{}
	_ = json.Unmarshal([]byte(strings.Replace(membersConfig, "OWNER", h.owner, 1)), &cfg)
	if errs, err := h.srv.Sources.Save(ctx, src, cfg); err != nil || len(errs) > 0 {
		t.Fatal(errs, err)
	}
	u, _ := h.store.User(ctx, uid)
	if left, _ := kept(t, h); left != "" || strings.Contains(string(u.Revalidation), tok) {
		t.Fatalf("after the setting was turned off: kept %q, state %s", left, u.Revalidation)
	}
}
