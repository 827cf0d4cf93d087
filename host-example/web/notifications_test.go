package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// hookReceiver is a local receiver of notifications: what it took, by path.
type hookReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []hookRequest
	down bool
}

type hookRequest struct {
	path   string
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.down {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		r.got = append(r.got, hookRequest{path: req.URL.Path, header: req.Header.Clone(), body: body})
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.got...)
}

func (r *hookReceiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// addTarget adds a notification target on the admin page (its form's suggested secret when
// secret is "suggested") and answers the secret it was given.
func addTarget(t *testing.T, b *browser, name, format, u, secret string, kinds ...string) string {
	t.Helper()
	p := b.Do("GET", "/admin/notifications/new", nil)
	if secret == "suggested" {
		secret = p.Field("secret")
		if len(secret) < 32 {
			t.Fatalf("the new target's form suggests no secret: %.800s", p.Body)
		}
	}
	form := url.Values{"csrf": {p.CSRF()}, "name": {name}, "format": {format}, "url": {u}, "secret": {secret}, "kinds": kinds}
	if p = b.Do("POST", "/admin/notifications", form); p.Status != http.StatusSeeOther || p.Location != "/admin/notifications" {
		t.Fatalf("add target %s: %d %.800s", name, p.Status, p.Body)
	}
	return secret
}

// The whole way through a real host: the admin adds targets on the page (a signed generic
// webhook with the form's secret, ntfy with a token, Discord), then a friend's first
// sign-in, a refusal, a health check that changes, re-validation removing the friend and a
// change of the admin grants each arrive once at each target, signed where signing means
// something, with no token, secret, name or e-mail in any payload; the page shows each
// target's delivery and sends a test.
func TestNotificationsEndToEnd(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	r := newHookReceiver(t)
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	every := []string{"first_sign_in", "refusal", "access_removed", "health_changed", "admin_ways_changed"}
	hookSecret := addTarget(t, admin, "Home Assistant", "webhook", r.URL+"/hook", "suggested", every...)
	const ntfyToken = "tk_notify0123456789abcdef"
	addTarget(t, admin, "Phone", "ntfy", r.URL+"/ntfy-topic", ntfyToken, every...)
	addTarget(t, admin, "Discord", "discord", r.URL+"/api/webhooks/42/discord-url-token", "", every...)

	ctx := context.Background()
	friend := h.browser()
	if p := friend.Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("friend's sign-in: %.500s", p.Body)
	}
	if p := h.browser().Login("plex", "friend"); p.Location != "/" { // not the first any more
		t.Fatalf("friend's second sign-in: %.500s", p.Body)
	}
	if p := h.browser().Login("plex", "noshare"); p.Location == "/" {
		t.Fatal("noshare got in")
	}
	_ = h.srv.Jobs.CheckHealth(ctx)
	_ = h.srv.Jobs.CheckHealth(ctx) // unchanged: no second message
	h.sim.SetShare("friend", plexsim.ServerLivingRoom, false)
	restartPlugin(t, h)
	if err := h.srv.Jobs.Revalidate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	p := admin.Do("GET", "/admin/security", nil)
	if p = admin.Do("POST", "/admin/security/grants", url.Values{"csrf": {p.CSRF()}, "grant_source": {src.ID}, "grant_group": {"plex-owner"},
		"confirm": {"1"}, "proof_password": {adminPassword}}); p.Status != http.StatusSeeOther {
		t.Fatalf("save the admin grants: %d %.500s", p.Status, p.Body)
	}
	if _, err := h.srv.Notify.SendDue(ctx); err != nil {
		t.Fatal(err)
	}

	users, _ := h.store.Users(ctx)
	var secrets []string
	for _, u := range users {
		secrets = append(secrets, u.Username, u.Email)
		if creds, err := h.store.UserCredentials(ctx, u.ID); err == nil {
			for _, c := range creds {
				secrets = append(secrets, c.Value)
			}
		}
	}
	secrets = append(secrets, hookSecret, ntfyToken, "discord-url-token", adminPassword, h.owner)
	for _, s := range h.sim.Secrets() { // every token the upstream issued (not its PIN ids: short numbers)
		if len(s) >= 16 {
			secrets = append(secrets, s)
		}
	}
	for _, c := range friend.Client.Jar.Cookies(mustURL(h.host.URL)) {
		secrets = append(secrets, c.Value)
	}
	kinds := map[string][]string{}
	for _, g := range r.requests() {
		for _, s := range secrets {
			if s != "" && strings.Contains(string(g.body), s) {
				t.Errorf("%s: the payload holds %q: %s", g.path, s, g.body)
			}
		}
		switch g.path {
		case "/hook":
			ts := g.header.Get(notify.HeaderTimestamp)
			if !notify.Verify([]byte(hookSecret), ts, g.body, g.header.Get(notify.HeaderSignature)) {
				t.Errorf("unsigned webhook: %v %s", g.header, g.body)
			}
			var m notify.Message
			if err := json.Unmarshal(g.body, &m); err != nil {
				t.Fatal(err)
			}
			kinds[g.path] = append(kinds[g.path], string(m.Kind)+m.State)
			if m.Kind == notify.FirstSignIn && (m.Person == nil || !strings.HasPrefix(m.Person.URL, h.host.URL+"/admin/users/")) {
				t.Errorf("the first sign-in links no person page: %s", g.body)
			}
		case "/ntfy-topic":
			kinds[g.path] = append(kinds[g.path], g.header.Get("Tags"))
		default:
			kinds[g.path] = append(kinds[g.path], "discord")
		}
	}
	if got := strings.Join(kinds["/hook"], ","); got != "first_sign_in,refusal,health_changedvalid,access_removed,admin_ways_changed" {
		t.Fatalf("the webhook got %s", got)
	}
	if len(kinds["/ntfy-topic"]) != 5 || len(kinds["/api/webhooks/42/discord-url-token"]) != 5 {
		t.Fatalf("ntfy and Discord got %v", kinds)
	}

	p = admin.Do("GET", "/admin/notifications", nil)
	if strings.Count(p.Body, "delivered</span>") != 3 || strings.Contains(p.Body, hookSecret) || strings.Contains(p.Body, ntfyToken) {
		t.Fatalf("the page's delivery state (and no secret): %s", p.Body)
	}
	id := regexp.MustCompile(`<tr id="target-([0-9a-f]+)"><td>Home Assistant`).FindStringSubmatch(p.Body)
	if id == nil {
		t.Fatalf("no row of the webhook target: %s", p.Body)
	}
	if edit := admin.Do("GET", "/admin/notifications/"+id[1], nil); edit.Status != http.StatusOK || strings.Contains(edit.Body, hookSecret) ||
		!strings.Contains(edit.Body, "Empty keeps the one it has.") || edit.Field("url") != r.URL+"/hook" {
		t.Fatalf("the edit form (the URL, never the secret): %d %s", edit.Status, edit.Body)
	}
	if p = admin.Do("POST", "/admin/notifications/"+id[1]+"/test", url.Values{"csrf": {p.CSRF()}}); p.Status != http.StatusSeeOther {
		t.Fatalf("send a test: %d", p.Status)
	}
	if p = admin.Do("GET", "/admin/notifications", nil); !strings.Contains(p.Body, "The test was delivered.") {
		t.Fatalf("test flash: %s", p.Body)
	}
	r.setDown(true)
	admin.Do("POST", "/admin/notifications/"+id[1]+"/test", url.Values{"csrf": {p.CSRF()}})
	if p = admin.Do("GET", "/admin/notifications", nil); !strings.Contains(p.Body, "The test was not delivered: the target answered 502 Bad Gateway.") {
		t.Fatalf("failed test flash: %s", p.Body)
	}
	// A failing delivery shows on the page with its error (another person: noshare's refusal
	// again within notify.RepeatWindow is not told twice).
	if p := h.browser().Login("plex", "pending"); p.Location == "/" {
		t.Fatal("pending got in")
	}
	if _, err := h.srv.Notify.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if p = admin.Do("GET", "/admin/notifications", nil); strings.Count(p.Body, "failing</span>") != 3 || !strings.Contains(p.Body, "the target answered 502 Bad Gateway") ||
		!strings.Contains(p.Body, "1 queued") {
		t.Fatalf("the failing targets: %s", p.Body)
	}
}

// The notification pages are the admin's: without an admin session a page sends to the
// sign-in and a change is refused; with one, a change without the CSRF token is refused; a
// form the checks refuse says why and saves nothing; an unknown target is 404.
func TestNotificationPagesRefuse(t *testing.T) {
	h := newHarness(t, nil)
	r := newHookReceiver(t)
	anon := h.browser()
	if p := anon.Do("GET", "/admin/notifications", nil); p.Status != http.StatusSeeOther || p.Location != "/admin/login" {
		t.Fatalf("anonymous page: %d %s", p.Status, p.Location)
	}
	if p := anon.Do("POST", "/admin/notifications", url.Values{"name": {"x"}, "format": {"webhook"}, "url": {r.URL}, "secret": {strings.Repeat("s", 20)}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous add: %d", p.Status)
	}
	friend := h.browser()
	h.addSource(membersConfig)
	friend.Login("plex", "friend")
	if p := friend.Do("GET", "/admin/notifications", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("a person's page: %d", p.Status)
	}
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	if p := admin.Do("POST", "/admin/notifications", url.Values{"name": {"x"}, "format": {"webhook"}, "url": {r.URL}, "secret": {strings.Repeat("s", 20)}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("add without CSRF: %d", p.Status)
	}
	p := admin.Do("GET", "/admin/notifications/new", nil)
	for _, c := range []struct{ form url.Values }{
		{url.Values{"name": {"x"}, "format": {"webhook"}, "url": {"file:///etc/passwd"}, "secret": {strings.Repeat("s", 20)}}},
		{url.Values{"name": {"x"}, "format": {"webhook"}, "url": {r.URL}, "secret": {"short"}}},
		{url.Values{"name": {"x"}, "format": {"webhook"}, "url": {"http://user:pw@" + strings.TrimPrefix(r.URL, "http://")}, "secret": {strings.Repeat("s", 20)}}},
		{url.Values{"name": {"x"}, "format": {"pigeon"}, "url": {r.URL}}},
		{url.Values{"name": {""}, "format": {"ntfy"}, "url": {r.URL}}},
		{url.Values{"name": {"x"}, "format": {"ntfy"}, "url": {r.URL}, "kinds": {"everything"}}},
	} {
		c.form.Set("csrf", p.CSRF())
		if got := admin.Do("POST", "/admin/notifications", c.form); got.Status != http.StatusUnprocessableEntity || !strings.Contains(got.Body, `class="err"`) {
			t.Errorf("%v: %d %.300s", c.form, got.Status, got.Body)
		}
	}
	if p = admin.Do("GET", "/admin/notifications", nil); !strings.Contains(p.Body, "No target yet.") {
		t.Fatalf("a refused form saved a target: %s", p.Body)
	}
	csrf := p.CSRF()
	if p = admin.Do("GET", "/admin/notifications/nope", nil); p.Status != http.StatusNotFound {
		t.Fatalf("unknown target: %d", p.Status)
	}
	if p = admin.Do("POST", "/admin/notifications/nope/test", url.Values{"csrf": {csrf}}); p.Status != http.StatusNotFound {
		t.Fatalf("test of an unknown target: %d", p.Status)
	}
}
