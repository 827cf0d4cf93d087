package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// Multipart bodies never reach the form parser: nothing lands in TMPDIR, even with the
// cookie every visitor gets from GET /login.
func TestMultipartBodiesLeaveNoFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	b := h.browser()
	csrf := b.Do("GET", "/login", nil).CSRF()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("f", "big.bin")
	_, _ = fw.Write(bytes.Repeat([]byte("x"), 40<<20))
	_ = mw.Close()
	for _, path := range []string{"/login/plex", "/admin/login", "/logout"} {
		req, _ := http.NewRequest("POST", h.host.URL+path, bytes.NewReader(body.Bytes()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := b.Client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnsupportedMediaType {
				t.Errorf("%s: %d", path, resp.StatusCode)
			}
		}
	}
	left, _ := os.ReadDir(tmp)
	for _, f := range left {
		if strings.HasPrefix(f.Name(), "multipart-") {
			t.Fatalf("files left in TMPDIR: %v", left)
		}
	}
	// An oversized urlencoded body is refused too.
	big := url.Values{"csrf": {csrf}, "x": {strings.Repeat("a", 100<<10)}}
	if p := b.Do("POST", "/login/plex", big); p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized form: %d", p.Status)
	}
}

// Anonymous visits store nothing; the CSRF token still protects their forms.
func TestAnonymousVisitsStoreNoSession(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	ctx := context.Background()
	before, _ := h.store.CountSessions(ctx)
	for i := 0; i < 50; i++ {
		h.browser().Do("GET", "/login", nil)
	}
	if after, _ := h.store.CountSessions(ctx); after != before {
		t.Fatalf("sessions %d → %d after anonymous visits", before, after)
	}
	b := h.browser()
	b.Do("GET", "/login", nil)
	if p := b.Do("POST", "/login/plex", url.Values{"csrf": {"0123456789abcdef"}}); p.Status != http.StatusForbidden {
		t.Fatalf("forged CSRF: %d", p.Status)
	}
	other := h.browser().Do("GET", "/login", nil).CSRF()
	if p := b.Do("POST", "/login/plex", url.Values{"csrf": {other}}); p.Status != http.StatusForbidden {
		t.Fatalf("another browser's CSRF token: %d", p.Status)
	}
	if p := b.Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("login: %d %s", p.Status, p.Body)
	}
}

// The pages run only their own scripts: the CSP allows no inline script but by a nonce of
// that answer (a new one each time), and every script of a page carries it; a page with
// none (the login) is no exception, and a script an attacker got into a page would not run.
func TestPagesRunOnlyTheirOwnScripts(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	seen := map[string]bool{}
	for _, path := range []string{"/login", "/admin", "/admin/events", "/admin/sources/" + h.source.ID, "/admin/clients"} {
		p := admin.Do("GET", path, nil)
		if path == "/login" {
			p = h.browser().Do("GET", path, nil)
		}
		csp := p.Header.Get("Content-Security-Policy")
		m := regexp.MustCompile(`script-src ([^;]*)`).FindStringSubmatch(csp)
		if p.Status != http.StatusOK || m == nil || strings.Contains(m[1], "unsafe-inline") {
			t.Fatalf("%s: %d, script-src of %q", path, p.Status, csp)
		}
		nonce := regexp.MustCompile(`'nonce-([A-Za-z0-9_-]{24})'`).FindStringSubmatch(m[1])
		if nonce == nil || seen[nonce[1]] {
			t.Fatalf("%s: no fresh nonce in %q", path, m[1])
		}
		seen[nonce[1]] = true
		scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(p.Body, -1)
		if len(scripts) == 0 {
			t.Fatalf("%s: no script to check", path)
		}
		for _, sc := range scripts {
			if sc != `<script nonce="`+nonce[1]+`">` {
				t.Fatalf("%s: a script without the answer's nonce: %s", path, sc)
			}
		}
	}
}

// A cross-site logout changes nothing; a real one ends the stored session.
func TestLogoutChecksCSRFAndEndsTheSession(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	b := h.browser()
	b.Login("plex", "friend")
	var cookie string
	for _, c := range b.Client.Jar.Cookies(mustURL(h.host.URL)) {
		cookie = c.Value
	}
	if p := b.Do("POST", "/logout", url.Values{"csrf": {"forged"}}); p.Status != http.StatusForbidden {
		t.Fatalf("forged logout: %d", p.Status)
	}
	p := b.Do("GET", "/profile", nil)
	if p.Status != http.StatusOK {
		t.Fatalf("still logged in after a forged logout: %d", p.Status)
	}
	if p := b.Do("POST", "/logout", url.Values{"csrf": {p.CSRF()}}); p.Status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.Status)
	}
	// The old cookie, replayed, is no longer a session.
	replay := h.browser()
	replay.Client.Jar.SetCookies(mustURL(h.host.URL), []*http.Cookie{{Name: "hx_session", Value: cookie, Path: "/"}})
	if p := replay.Do("GET", "/profile", nil); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Fatalf("replayed cookie after logout: %d", p.Status)
	}
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}

// Disabling a source ends its users' sessions at once.
func TestDisablingASourceEndsSessions(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	b := h.browser()
	b.Login("plex", "friend")
	if p := b.Do("GET", "/profile", nil); p.Status != http.StatusOK {
		t.Fatal("not logged in")
	}
	a := h.browser()
	a.AdminLogin(adminPassword)
	p := a.Do("GET", "/admin", nil)
	if p := a.Do("POST", "/admin/sources/"+src.ID+"/enabled", url.Values{"csrf": {p.CSRF()}, "enabled": {"0"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d", p.Status)
	}
	if p := b.Do("GET", "/profile", nil); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Fatalf("profile after the source was disabled: %d", p.Status)
	}
}

// Two tabs each finish their own login; "not yet" can be checked again; a completed login is single use.
func TestTwoTabsAndPendingRetry(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	b := h.browser()
	codeA, fwdA, _ := plexsim.ForwardURL(b.StartLogin(b.Get("/login"), "plex"))
	codeB, fwdB, _ := plexsim.ForwardURL(b.StartLogin(b.Get("/login"), "plex"))
	if fwdA == fwdB {
		t.Fatal("two logins share a callback URL")
	}
	p := b.Do("GET", fwdA, nil)
	if p.Status != http.StatusAccepted || !strings.Contains(p.Body, "Check again") {
		t.Fatalf("not yet approved: %d %s", p.Status, p.Body)
	}
	_ = h.sim.Claim(codeA, "friend")
	if p := b.Do("GET", fwdA, nil); p.Location != "/" {
		t.Fatalf("checked again after approval: %d %s", p.Status, p.Body)
	}
	before, _ := h.store.CountSessions(context.Background())
	if p := b.Do("GET", fwdA, nil); p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("completed login reused (a reload while signed in goes to the profile): %d %s", p.Status, p.Location)
	}
	if after, _ := h.store.CountSessions(context.Background()); after != before {
		t.Fatalf("a reused callback made a session: %d → %d", before, after)
	}
	_ = h.sim.Claim(codeB, "homemember")
	if p := b.Do("GET", fwdB, nil); p.Location != "/" {
		t.Fatalf("the other tab: %d %s", p.Status, p.Body)
	}
	if p := b.Do("GET", "/profile", nil); !strings.Contains(p.Body, "hilda") {
		t.Fatal("the second tab's login did not take effect")
	}
}

// A setup link expires, and is void once an admin password exists (also via HOST_ADMIN_PASSWORD).
func TestSetupLinkExpiresAndIsVoidedByAPassword(t *testing.T) {
	h := newHarness(t, nil)
	adm := host.NewAdmin(h.store, nil)
	ctx := context.Background()
	_ = h.store.SetMeta(ctx, "admin_password_hash", "")
	tok, _ := adm.SetupToken(ctx)
	if p := h.browser().Do("GET", "/setup?token="+tok, nil); p.Status != http.StatusOK {
		t.Fatalf("fresh link: %d", p.Status)
	}
	_ = adm.SetPassword(ctx, "set-from-the-environment")
	b := h.browser()
	p := b.Do("GET", "/setup?token="+tok, nil)
	csrf := b.Do("GET", "/admin/login", nil).CSRF()
	if p.Status != http.StatusForbidden {
		t.Fatalf("link after a password was set: %d", p.Status)
	}
	if p := b.Do("POST", "/setup", url.Values{"csrf": {csrf}, "token": {tok}, "password": {"attacker-password"}}); p.Status != http.StatusForbidden {
		t.Fatalf("setup after a password was set: %d", p.Status)
	}
	_ = h.store.SetMeta(ctx, "admin_password_hash", "")
	tok, _ = adm.SetupToken(ctx)
	_ = h.store.SetMeta(ctx, "setup_token_expires", "1")
	if p := b.Do("GET", "/setup?token="+tok, nil); p.Status != http.StatusForbidden {
		t.Fatalf("expired link: %d", p.Status)
	}
}

// Admin password guessing from many addresses hits a global backoff; successes never count.
func TestAdminPasswordGuessing(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.TrustedProxies = trustLoopback })
	b := h.browser()
	for i := 0; i < 15; i++ { // successes do not lock the admin out
		b.Header.Set("X-Forwarded-For", "198.51.100.1")
		b.AdminLogin(adminPassword)
	}
	refused := 0
	for i := 0; i < 40; i++ {
		c := h.browser()
		c.Header.Set("X-Forwarded-For", "203.0.113."+strconv.Itoa(i%8+1))
		p := c.Do("GET", "/admin/login", nil)
		p = c.Do("POST", "/admin/login", url.Values{"csrf": {p.CSRF()}, "password": {"guess"}})
		if p.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused < 15 {
		t.Fatalf("only %d of 40 guesses from 8 addresses were refused", refused)
	}
	c := h.browser()
	c.Header.Set("X-Forwarded-For", "192.0.2.99")
	p := c.Do("GET", "/admin/login", nil)
	if p = c.Do("POST", "/admin/login", url.Values{"csrf": {p.CSRF()}, "password": {adminPassword}}); p.Status != http.StatusTooManyRequests {
		t.Fatalf("a new address during the global backoff: %d", p.Status)
	}
}

// One flooding client is refused while another still begins logins; an X-Forwarded-For entry
// with a port keys on the client, not on the proxy.
func TestBeginLoginLimitPerClient(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.LoginRate = 6; c.TrustedProxies = trustLoopback })
	h.addSource(membersConfig)
	flood := h.browser()
	flood.Header.Set("X-Forwarded-For", "203.0.113.7:4711")
	if last := flood.beginLogins(8, nil); last != http.StatusTooManyRequests {
		t.Fatalf("flood: %d", last)
	}
	other := h.browser()
	other.Header.Set("X-Forwarded-For", "[2001:db8::1]:80")
	if last := other.beginLogins(2, nil); last != http.StatusSeeOther {
		t.Fatalf("another client during the flood: %d", last)
	}
	same64 := h.browser()
	same64.Header.Set("X-Forwarded-For", "2001:db8::ffff")
	if last := same64.beginLogins(3, nil); last != http.StatusTooManyRequests {
		t.Fatalf("same IPv6 /64 is one client: %d", last)
	}
}

var trustLoopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// A setup link sets one admin password even when several requests use it at once (as
// replicas behind a load balancer would each take one): one is let in, the others refused.
func TestSetupLinkUsedAtOnceSetsOnePassword(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	_ = h.store.SetMeta(ctx, "admin_password_hash", "")
	tok, _ := host.NewAdmin(h.store, nil).SetupToken(ctx)
	const n = 6
	browsers, csrfs := make([]*browser, n), make([]string, n)
	for i := range browsers {
		browsers[i] = h.browser()
		csrfs[i] = browsers[i].Do("GET", "/setup?token="+tok, nil).CSRF()
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := browsers[i].Do("POST", "/setup", url.Values{"csrf": {csrfs[i]}, "token": {tok}, "password": {"password-number-" + strconv.Itoa(i)},
				"confirm": {"password-number-" + strconv.Itoa(i)}})
			statuses[i] = p.Status
		}()
	}
	wg.Wait()
	in := 0
	for _, s := range statuses {
		if s == http.StatusSeeOther {
			in++
		}
	}
	if in != 1 {
		t.Fatalf("a setup link used at once by %d requests let %d in: %v", n, in, statuses)
	}
}

// countingBody counts what the server read of a request's body.
type countingBody struct {
	r    io.Reader
	read int
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

// An icon upload is read only behind an admin session: anyone else's body is refused unread
// (a person's session, no session); the admin's is read and stored.
func TestIconUploadReadOnlyForTheAdmin(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	id, err := h.store.PutForwardRule(context.Background(), store.ForwardRule{Name: "Wiki", Host: "wiki.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	friend := h.browser()
	friend.Login("plex", "friend")
	csrf := friend.Do("GET", "/profile", nil).CSRF()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("icon", "icon.png")
	_, _ = fw.Write(pngIcon(t))
	_ = mw.Close()
	for who, b := range map[string]*browser{"a person": friend, "no session": h.browser()} {
		cb := &countingBody{r: bytes.NewReader(body.Bytes())}
		req := httptest.NewRequest("POST", "/admin/forward-auth/"+id+"/icon", cb)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		u, _ := url.Parse(h.host.URL)
		for _, c := range b.Client.Jar.Cookies(u) {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden || cb.read != 0 {
			t.Errorf("%s: %d, %d bytes of the body read", who, rec.Code, cb.read)
		}
	}
	if _, err := h.store.AppIcon(context.Background(), store.RuleIcon, id); err == nil {
		t.Fatal("an icon was stored")
	}
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	admin.Get("/admin/forward-auth/" + id)
	if p := admin.Upload("/admin/forward-auth/"+id+"/icon", nil, "icon", "icon.png", "image/png", pngIcon(t)); p.Status != http.StatusSeeOther {
		t.Fatalf("the admin's upload: %d %s", p.Status, p.Body)
	}
	if _, err := h.store.AppIcon(context.Background(), store.RuleIcon, id); err != nil {
		t.Fatalf("the admin's icon was not stored: %v", err)
	}
}
