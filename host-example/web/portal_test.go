package web_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// pngIcon is a small PNG picture.
func pngIcon(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range 16 {
		img.Set(i, i, color.RGBA{R: 229, G: 160, B: 13, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// portalApps are three apps for the friends' portal: Sonarr (friends and the owner), Radarr
// (the owner's only), and Grafana (everyone, with a launch URL), plus an application without
// a launch URL (never a tile) and one of a group nobody is in. It answers the rules' ids.
func portalApps(t testing.TB, h *harness, sonarrHost, radarrHost, grafanaURL string) (sonarr, radarr string) {
	t.Helper()
	ctx := context.Background()
	var err error
	if sonarr, err = h.store.PutForwardRule(ctx, store.ForwardRule{Name: "Sonarr", Host: sonarrHost, Groups: []string{"plex-friend", "plex-owner"}}); err != nil {
		t.Fatal(err)
	}
	if radarr, err = h.store.PutForwardRule(ctx, store.ForwardRule{Name: "Radarr", Host: radarrHost, Groups: []string{"plex-owner"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.OIDCClient{
		{ID: "grafana", Name: "Grafana", RedirectURIs: []string{"https://grafana.example.test/cb"}, LaunchURL: grafanaURL, Origin: "ui"},
		{ID: "nolaunch", Name: "No launch URL", RedirectURIs: []string{"https://nolaunch.example.test/cb"}, Origin: "ui"},
		{ID: "staff", Name: "Staff wiki", RedirectURIs: []string{"https://staff.example.test/cb"}, LaunchURL: "https://staff.example.test/",
			AllowedGroups: []string{"staff"}, Origin: "ui"},
	} {
		if err := h.store.PutOIDCClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return sonarr, radarr
}

// A sign-in with no return address ends on the person's apps: the tiles of the apps whose
// groups admit them (an application only with a launch URL), never another's; an app's icon
// is served (its checked type, nosniff, cached privately) to a person whose portal shows
// it and to the admin, and is 404 for anyone else.
func TestPortalShowsOnlyTheAppsThatAdmit(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	sonarr, radarr := portalApps(t, h, "sonarr.example.test", "radarr.example.test", "https://grafana.example.test/")
	icon := pngIcon(t)
	for _, id := range []string{sonarr, radarr} {
		if err := h.store.PutAppIcon(context.Background(), store.AppIcon{Kind: store.RuleIcon, AppID: id, ContentType: "image/png", Data: icon}); err != nil {
			t.Fatal(err)
		}
	}
	anon := h.browser()
	if p := anon.Get("/"); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Fatalf("/ signed out: %d %s", p.Status, p.Location)
	}
	friend := h.browser()
	if p := friend.Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("a sign-in with no return address went to %q", p.Location)
	}
	p := friend.Get("/")
	tiles := strings.Count(p.Body, `class="tile"`)
	if p.Status != http.StatusOK || tiles != 2 || !strings.Contains(p.Body, ">Sonarr<") || !strings.Contains(p.Body, ">Grafana<") ||
		!strings.Contains(p.Body, `href="http://sonarr.example.test/"`) || !strings.Contains(p.Body, `href="https://grafana.example.test/"`) {
		t.Fatalf("the friend's portal (%d tiles): %d %s", tiles, p.Status, p.Body)
	}
	for _, not := range []string{"Radarr", "radarr.example.test", "No launch URL", "Staff wiki", "/apps/icon/rule/" + radarr} {
		if strings.Contains(p.Body, not) {
			t.Errorf("the friend's portal shows %q", not)
		}
	}
	if !strings.Contains(p.Body, `src="/apps/icon/rule/`+sonarr+`?v=`) {
		t.Error("Sonarr's tile has no icon")
	}
	got := friend.Get("/apps/icon/rule/" + sonarr)
	if got.Status != http.StatusOK || got.Body != string(icon) || got.Header.Get("Content-Type") != "image/png" ||
		got.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(got.Header.Get("Cache-Control"), "private, max-age=") {
		t.Fatalf("the icon of an app on the friend's portal: %d %v", got.Status, got.Header)
	}
	for who, b := range map[string]*browser{"the friend, of an app not admitting him": friend, "someone signed out": anon} {
		if p := b.Get("/apps/icon/rule/" + radarr); p.Status != http.StatusNotFound || p.Body == string(icon) {
			t.Errorf("%s got Radarr's icon: %d", who, p.Status)
		}
	}
	if p := anon.Get("/apps/icon/rule/" + sonarr); p.Status != http.StatusNotFound {
		t.Errorf("someone signed out got an icon: %d", p.Status)
	}
	for _, path := range []string{"/apps/icon/client/grafana", "/apps/icon/other/" + sonarr, "/apps/icon/rule/nope"} {
		if p := friend.Get(path); p.Status != http.StatusNotFound {
			t.Errorf("%s: %d", path, p.Status)
		}
	}
	owner := h.browser()
	owner.Login("plex", "owner")
	p = owner.Get("/")
	if n := strings.Count(p.Body, `class="tile"`); n != 3 || !strings.Contains(p.Body, ">Radarr<") || strings.Contains(p.Body, "Staff wiki") {
		t.Fatalf("the owner's portal (%d tiles): %s", n, p.Body)
	}
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	if p := admin.Get("/apps/icon/rule/" + radarr); p.Status != http.StatusOK || p.Body != string(icon) {
		t.Errorf("the admin's icon: %d", p.Status)
	}
}

// The icon upload takes a PNG, JPEG or WebP picture by its bytes from the admin, with the
// CSRF token; it refuses SVG (whatever type the browser declares), GIF, a picture over 64 KB,
// a body over its cap, no file, an app that does not exist, a missing CSRF token and a person
// who is not the admin. Every other route still refuses a multipart body.
func TestIconUploadRefusals(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	sonarr, _ := portalApps(t, h, "sonarr.example.test", "radarr.example.test", "https://grafana.example.test/")
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	stored := func() bool {
		_, err := h.store.AppIcon(context.Background(), store.RuleIcon, sonarr)
		return err == nil
	}
	page := "/admin/forward-auth/" + sonarr
	up := page + "/icon"
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`)
	for name, c := range map[string]struct {
		ct     string
		data   []byte
		status int
		why    string
	}{
		"svg declared as png": {"image/png", svg, http.StatusUnprocessableEntity, "only PNG, JPEG or WebP"},
		"svg":                 {"image/svg+xml", svg, http.StatusUnprocessableEntity, "only PNG, JPEG or WebP"},
		"gif":                 {"image/gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), http.StatusUnprocessableEntity, "only PNG, JPEG or WebP"},
		"html":                {"image/png", []byte("<!doctype html><script>alert(1)</script>"), http.StatusUnprocessableEntity, "only PNG, JPEG or WebP"},
		"too big":             {"image/png", append(pngIcon(t), make([]byte, 70<<10)...), http.StatusUnprocessableEntity, "larger than 64 KB"},
		"body over the cap":   {"image/png", append(pngIcon(t), make([]byte, 300<<10)...), http.StatusRequestEntityTooLarge, ""},
	} {
		admin.Get(page)
		p := admin.Upload(up, nil, "icon", "icon.png", c.ct, c.data)
		if p.Status != c.status || !strings.Contains(p.Body, c.why) {
			t.Errorf("%s: %d %.300s", name, p.Status, p.Body)
		}
		if stored() {
			t.Fatalf("%s: stored", name)
		}
	}
	admin.Get(page)
	if p := admin.Upload(up, nil, "other", "icon.png", "image/png", pngIcon(t)); p.Status != http.StatusBadRequest {
		t.Errorf("no icon field: %d", p.Status)
	}
	admin.Get(page)
	if p := admin.Upload("/admin/forward-auth/nope/icon", nil, "icon", "icon.png", "image/png", pngIcon(t)); p.Status != http.StatusNotFound {
		t.Errorf("an app that does not exist: %d", p.Status)
	}
	admin.Get(page)
	if p := admin.Upload(up, url.Values{"csrf": {"wrong"}}, "icon", "icon.png", "image/png", pngIcon(t)); p.Status != http.StatusUnauthorized || stored() {
		t.Errorf("a wrong CSRF token: %d, stored %v", p.Status, stored())
	}
	friend := h.browser()
	friend.Login("plex", "friend")
	friend.Get("/profile")
	// refused unread (TestIconUploadReadOnlyForTheAdmin): no session-ended page keeping the form
	if p := friend.Upload(up, nil, "icon", "icon.png", "image/png", pngIcon(t)); p.Status != http.StatusForbidden || stored() {
		t.Errorf("a person who is not the admin: %d, stored %v", p.Status, stored())
	}
	// Multipart anywhere else: refused before any handler (admin form, sign-in, sign-out).
	for _, path := range []string{page, "/admin/clients/grafana", "/login/plex", "/logout", "/admin/forward-auth/" + sonarr + "/icon/delete"} {
		admin.Get(page)
		if p := admin.Upload(path, nil, "icon", "icon.png", "image/png", pngIcon(t)); p.Status != http.StatusUnsupportedMediaType {
			t.Errorf("multipart to %s: %d", path, p.Status)
		}
	}
	// The admin's upload: stored as its checked type, shown on the app's page, removed.
	admin.Get(page)
	if p := admin.Upload(up, nil, "icon", "x.svg", "image/svg+xml", pngIcon(t)); p.Status != http.StatusSeeOther || !stored() {
		t.Fatalf("a PNG upload: %d %s", p.Status, p.Body)
	}
	if ic, _ := h.store.AppIcon(context.Background(), store.RuleIcon, sonarr); ic.ContentType != "image/png" {
		t.Errorf("stored as %q (the declared type was image/svg+xml)", ic.ContentType)
	}
	p := admin.Get(page)
	if !strings.Contains(p.Body, `id="icon-current"`) || !strings.Contains(p.Body, `enctype="multipart/form-data"`) {
		t.Fatalf("the app's page lacks its icon: %s", p.Body)
	}
	if p := admin.Submit(up+"/delete", nil); p.Status != http.StatusSeeOther || stored() {
		t.Errorf("remove: %d, stored %v", p.Status, stored())
	}
	// An application's icon, on its own page; one of the clients file (read-only) takes none.
	admin.Get("/admin/clients/grafana")
	if p := admin.Upload("/admin/clients/grafana/icon", nil, "icon", "g.png", "image/png", pngIcon(t)); p.Status != http.StatusSeeOther {
		t.Fatalf("an application's icon: %d %s", p.Status, p.Body)
	}
	if p := admin.Get("/admin/clients/grafana"); !strings.Contains(p.Body, `src="/apps/icon/client/grafana?v=`) {
		t.Errorf("the application's page lacks its icon: %s", p.Body)
	}
	if err := h.store.PutOIDCClient(context.Background(), store.OIDCClient{ID: "fromfile", Name: "File", Origin: "file"}); err != nil {
		t.Fatal(err)
	}
	admin.Get(page)
	if p := admin.Upload("/admin/clients/fromfile/icon", nil, "icon", "f.png", "image/png", pngIcon(t)); p.Status != http.StatusNotFound {
		t.Errorf("an icon for a client of the clients file: %d", p.Status)
	}
}

// An application's launch URL is set on its form, checked (an absolute https URL, http on
// loopback), and puts it on the portal.
func TestClientLaunchURL(t *testing.T) {
	h := newHarness(t, nil)
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	p := admin.Get("/admin/clients/new")
	form := url.Values{"csrf": {p.CSRF()}, "name": {"Grafana"}, "client_id": {"grafana"}, "redirect_uris": {"https://grafana.example.com/cb"},
		"launch_url": {"javascript:alert(1)"}}
	if p := admin.PostForm("/admin/clients", form); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "launch_url") {
		t.Fatalf("a javascript: launch URL: %d %s", p.Status, p.Body)
	}
	form.Set("launch_url", "https://grafana.example.com/d/home")
	if p := admin.PostForm("/admin/clients", form); p.Status != http.StatusOK {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	if c, err := h.store.OIDCClientByID(context.Background(), "grafana"); err != nil || c.LaunchURL != "https://grafana.example.com/d/home" {
		t.Fatalf("saved %+v %v", c, err)
	}
	if p := admin.Get("/admin/clients/grafana"); !strings.Contains(p.Body, `value="https://grafana.example.com/d/home"`) {
		t.Fatalf("the form does not show the launch URL: %s", p.Body)
	}
}

// A person's own profile shows their name, e-mail, groups, apps and sessions, not their
// source's account id or raw attributes; the admin's page of them keeps those.
func TestProfileHidesIDsAdminPageKeepsThem(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	friend := h.browser()
	friend.Login("plex", "friend")
	frank, err := h.store.FindUser(context.Background(), src.ID, "frank")
	if err != nil {
		t.Fatal(err)
	}
	p := friend.Get("/profile")
	for _, want := range []string{"Frank Friend", "plex-friend", `id="p-apps"`, `id="p-sessions"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the profile lacks %q", want)
		}
	}
	for _, not := range []string{`id="p-sub"`, `class="attr"`, "account id", ">" + frank.Subject + "<"} {
		if strings.Contains(p.Body, not) {
			t.Errorf("the profile shows %q", not)
		}
	}
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	if p := admin.Get("/admin/users/" + strconv.FormatInt(frank.ID, 10)); !strings.Contains(p.Body, frank.Subject) || !strings.Contains(p.Body, `class="attr"`) ||
		!strings.Contains(p.Body, `<th title="plex_pass">Plex Pass</th>`) {
		t.Errorf("the admin's person page lost the account id or the attributes (by the plugin's titles): %s", p.Body)
	}
}
