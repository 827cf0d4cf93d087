package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The mapping preview of a person known here shows the result with what a sign-in keeps: the
// name the admin corrected, which the source sets at the first login only, and the group the
// admin gave.
func TestBrowserPreviewShowsWhatASignInKeeps(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	ctx := newBrowser(t)
	userLogin(t, ctx, h, "friend")
	bg := context.Background()
	frank, err := h.store.FindUser(bg, src.ID, "frank")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.SetSourceSync(bg, src.ID, store.DisplaySync{Name: store.SyncFirstLogin}); err != nil {
		t.Fatal(err)
	}
	if err := h.store.SetDisplay(bg, frank.ID, store.Display{Name: "Frank F. (corrected)", Email: frank.Email, Picture: frank.Picture}); err != nil {
		t.Fatal(err)
	}
	if err := h.store.SetAdminGroups(bg, frank.ID, []string{"family"}); err != nil {
		t.Fatal(err)
	}
	steps(t, ctx, "admin", chromedp.Navigate(h.host.URL+"/admin/login"), chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword),
		click("#admin-login"), visible("#new-plex"), chromedp.Navigate(h.host.URL+"/admin/sources/"+src.ID), visible("#f-mappings"),
		visible("#sync-modes"))
	steps(t, ctx, "preview frank", chromedp.SendKeys(chromedp.CSS("#preview-user"), "frank"))
	waitText(t, ctx, "#preview-out", "last login")
	out := textOf(t, ctx, "#preview-out")
	for _, want := range []string{"Frank F. (corrected) (kept: first login only; the mapping gives Frank Friend)", "family (set by the admin)", "plex-friend"} {
		if !strings.Contains(out, want) {
			t.Errorf("the preview lacks %q: %s", want, out)
		}
	}
}
