package openid_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
	_ "modernc.org/sqlite" // reads the test's database
)

// startAuthorize sends an authorization request from b and returns the host's login-step
// URL (/oidc/login?id=…) it was sent to, without following it.
func startAuthorize(t *testing.T, b *browser, authURL string) string {
	t.Helper()
	p := b.Do("GET", authURL, nil)
	if p.Status != http.StatusFound || !strings.Contains(p.Redirect, "/oidc/login?id=") {
		t.Fatalf("authorize: %d %s %s", p.Status, p.Redirect, p.Body)
	}
	return p.Redirect
}

// signedIn is a browser that has logged in as persona at the host.
func signedIn(t *testing.T, d *idp, persona string) *browser {
	t.Helper()
	b := d.browser()
	p := b.SignIn(b.Do("GET", "/login", nil), "plex", persona)
	if p.Status >= 400 {
		t.Fatalf("login as %s: %d %s", persona, p.Status, p.Body)
	}
	return b
}

func requestID(t *testing.T, loginURL string) string {
	u, err := url.Parse(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("id")
}

// An attacker who starts an authorization request and sends the victim its login-step link
// gets nothing: the victim's browser is not the one bound to it, and the library's
// bearer-id callback no longer hands out codes (finding 1).
func TestAuthorizationRequestCannotBeFinishedByAnotherBrowser(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	attacker := d.browser()
	victim := signedIn(t, d, "friend")
	link := startAuthorize(t, attacker, r.config.AuthCodeURL(randomString(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))

	p := victim.Do("GET", link, nil)
	if p.Status != http.StatusForbidden || p.Redirect != "" || !strings.Contains(p.Body, "another browser") {
		t.Fatalf("the victim's browser finished the attacker's request: %d %s", p.Status, p.Redirect)
	}
	id := requestID(t, link)
	for _, method := range []string{"GET", "POST"} {
		cb := attacker.Do(method, "/authorize/callback?id="+url.QueryEscape(id), url.Values{"id": {id}})
		if strings.Contains(cb.Redirect, "code=") || cb.Status < 400 {
			t.Fatalf("%s /authorize/callback answered %d %s", method, cb.Status, cb.Redirect)
		}
	}
	row, err := d.store.AuthRequestByID(context.Background(), id)
	if err != nil || row.Done || row.UserID != 0 {
		t.Fatalf("the request was completed by another browser: %+v %v", row, err)
	}
}

// The other order: the victim starts, an attacker signed in as himself opens the victim's
// link; he is refused, and the victim's own browser still finishes as the victim.
func TestAuthorizationRequestOfTheVictimStaysTheVictims(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	victim := signedIn(t, d, "friend")
	attacker := signedIn(t, d, "otherhome")
	state, verifier := randomString(), oauth2.GenerateVerifier()
	link := startAuthorize(t, victim, r.config.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))

	if p := attacker.Do("GET", link, nil); p.Status != http.StatusForbidden || p.Redirect != "" {
		t.Fatalf("another signed-in browser completed the victim's request: %d %s", p.Status, p.Redirect)
	}
	p := victim.Do("GET", link, nil)
	code, gotState := codeOf(t, p)
	if gotState != state {
		t.Fatalf("state %q", gotState)
	}
	tok, err := r.config.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if c := r.verify(t, tok, ""); c.PreferredUsername != "frank" {
		t.Fatalf("the code is for %q, want the victim frank", c.PreferredUsername)
	}
	if again := victim.Do("GET", link, nil); again.Status < 400 || strings.Contains(again.Redirect, "code=") {
		t.Fatalf("a finished request answered again: %d %s", again.Status, again.Redirect)
	}
}

// A POST to the callback whose body names another request than its query gets no code
// for either (zitadel reads the id from the form, where a body value wins).
func TestCallbackWithBodyIDIsRefused(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	b := signedIn(t, d, "friend")
	first := requestID(t, startAuthorize(t, b, r.config.AuthCodeURL("a", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))))
	second := requestID(t, startAuthorize(t, b, r.config.AuthCodeURL("b", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))))
	if err := d.store.CompleteAuthRequest(context.Background(), first, 1, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	p := b.Do("POST", "/authorize/callback?id="+second, url.Values{"id": {first}})
	if p.Status != http.StatusGone || strings.Contains(p.Redirect, "code=") {
		t.Fatalf("callback POST: %d %s", p.Status, p.Redirect)
	}
}

// A binding cookie planted beside the host's own (a sibling app under the cookie domain
// can set one on plain http) makes the binding ambiguous: refused.
func TestPlantedBindingCookieIsRefused(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	attacker := d.browser()
	link := startAuthorize(t, attacker, r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	u, _ := url.Parse(d.issuer)
	var planted string
	for _, c := range attacker.Client.Jar.Cookies(u) {
		if c.Name == "hx_oidc" {
			planted = c.Value
		}
	}
	if planted == "" {
		t.Fatal("no binding cookie was set by /authorize")
	}
	victim := signedIn(t, d, "friend")
	startAuthorize(t, victim, r.config.AuthCodeURL("v", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))) // its own binding
	req, _ := http.NewRequest("GET", link, nil)
	for _, c := range victim.Client.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	req.AddCookie(&http.Cookie{Name: "hx_oidc", Value: planted})
	resp, err := victim.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || strings.Contains(resp.Header.Get("Location"), "code=") {
		t.Fatalf("a planted binding cookie finished the request: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// Authorization requests loaded as an image or by a script (a sibling page pushing this
// browser's own sign-ins out of its binding cookie) are refused; navigations and frames pass.
func TestAuthorizeOnlyAsANavigation(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	for dest, want := range map[string]int{"image": http.StatusBadRequest, "script": http.StatusBadRequest, "empty": http.StatusBadRequest,
		"document": http.StatusFound, "iframe": http.StatusFound, "": http.StatusFound} {
		req, _ := http.NewRequest("GET", r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
		if dest != "" {
			req.Header.Set("Sec-Fetch-Dest", dest)
		}
		resp, err := d.browser().Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Sec-Fetch-Dest %q: %d, want %d", dest, resp.StatusCode, want)
		}
	}
}

// Several tabs of one browser keep their requests: the cookie holds the last few bindings.
func TestSeveralTabsOfOneBrowser(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	b := signedIn(t, d, "friend")
	var links []string
	for i := 0; i < 3; i++ {
		links = append(links, startAuthorize(t, b, r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))))
	}
	for _, l := range links {
		codeOf(t, b.Do("GET", l, nil))
	}
}

// Authorization parameters are capped, and anonymous authorization requests are limited
// per address, while a signed-in browser goes on (finding 7).
func TestAuthorizeCapsAndLimits(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	anon := d.browser()
	long := r.config.AuthCodeURL(strings.Repeat("s", 5000), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	if p := anon.Do("GET", long, nil); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "state is too long") {
		t.Fatalf("a 5,000-byte state: %d %s", p.Status, p.Body)
	}
	limited := false
	for i := 0; i < 60 && !limited; i++ {
		p := anon.Do("GET", r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
		limited = p.Status == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("60 anonymous authorization requests from one address were all accepted")
	}
	b := signedIn(t, d, "friend")
	codeOf(t, b.Do("GET", startAuthorize(t, b, r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), nil))
	// A signed-in user is limited too (per user, whatever the address), and another user is not.
	limited = false
	for i := 0; i < 60 && !limited; i++ {
		p := b.Do("GET", r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
		limited = p.Status == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("60 authorization requests of one signed-in user were all accepted")
	}
	other := signedIn(t, d, "otherhome")
	codeOf(t, other.Do("GET", startAuthorize(t, other, r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), nil))
}

// Each client keeps its newest ten open authorization requests; past the bound on all open
// requests, the busiest clients lose their oldest first, and a new request is never refused:
// a flood cannot close sign-in for everyone, nor drop the one request of a person signing in
// before the flood's own (the hostile review filled a global cap from 1,010 addresses and from
// one signed-in browser, then evicted a victim's request by age).
func TestOpenRequestsBoundedPerClientThenBusiestFirst(t *testing.T) {
	d := newIDP(t)
	d.maxOpen = 5
	d.start("RS256")
	r := d.rp()
	ctx := context.Background()
	start := time.Now()
	clock := 0
	tick := func() {
		clock++
		at := start.Add(time.Duration(clock) * time.Second) // a value: the host's jobs read the clock meanwhile
		d.store.SetClock(func() time.Time { return at })
	}
	tick()
	victim := signedIn(t, d, "friend")
	victimLink := startAuthorize(t, victim, r.config.AuthCodeURL("v", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	flood := d.browser()
	var links []string
	for i := 0; i < 8; i++ {
		tick()
		links = append(links, startAuthorize(t, flood, r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))))
	}
	if n, err := d.store.CountOpenAuthRequests(ctx); err != nil || n > 5 {
		t.Fatalf("open requests after 9 with a bound of 5: %d (%v)", n, err)
	}
	if _, err := d.store.AuthRequestByID(ctx, requestID(t, links[7])); err != nil {
		t.Error("the newest request of the flood was dropped")
	}
	if _, err := d.store.AuthRequestByID(ctx, requestID(t, links[0])); err == nil {
		t.Error("the oldest request of the flood was kept")
	}
	codeOf(t, victim.Do("GET", victimLink, nil)) // older than the flood, but its client's only one

	// Without the global bound in the way, one client keeps its newest ten.
	d.maxOpen = 0
	d.start("RS256")
	other := d.browser()
	links = nil
	for i := 0; i < 12; i++ {
		tick()
		links = append(links, startAuthorize(t, other, r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))))
	}
	for i, l := range links {
		_, err := d.store.AuthRequestByID(ctx, requestID(t, l))
		if kept := err == nil; kept != (i >= 2) {
			t.Errorf("request %d of one client kept: %v, want only the newest ten", i, kept)
		}
	}
}

// Credentials in the URL of the token, introspection and revocation endpoints are refused.
func TestCredentialsInTheQueryAreRefused(t *testing.T) {
	d := newIDP(t)
	for _, path := range []string{"/oauth/token", "/oauth/introspect", "/revoke"} {
		resp, err := http.PostForm(d.issuer+path+"?client_secret="+rpSecret, url.Values{"client_id": {rpID}, "grant_type": {"refresh_token"},
			"refresh_token": {"x"}, "token": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "invalid_request") {
			t.Errorf("%s with client_secret in the query: %d %s", path, resp.StatusCode, body)
		}
	}
	r := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess)
	tok, _ := r.login(t, d.browser(), "friend")
	if _, err := r.config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("a refresh with the secret in the header failed: %v", err)
	}
	// An access token in the query of userinfo (RFC 6750 allows it, and says not to).
	resp, err := http.Get(d.issuer + "/userinfo?access_token=" + url.QueryEscape(tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("userinfo with the access token in the query: %d, want 400", resp.StatusCode)
	}
	if !userinfoOK(r, tok) {
		t.Error("userinfo with the token in the header failed")
	}
}

// Narrowing an application's allowed groups reaches tokens already issued: refresh,
// userinfo and introspection refuse, and the grant is revoked (finding 10).
func TestNarrowedAllowedGroupsEndIssuedTokens(t *testing.T) {
	d := newIDP(t)
	r := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess)
	tok, _ := r.login(t, d.browser(), "friend")
	if !userinfoOK(r, tok) {
		t.Fatal("userinfo before the change")
	}
	ctx := context.Background()
	c, _ := d.store.OIDCClientByID(ctx, rpID)
	c.AllowedGroups = []string{"plex-owner"}
	d.addClient(*c)
	if active := introspect(t, d, tok.AccessToken); active {
		t.Fatal("introspection says active after the groups were narrowed")
	}
	if userinfoOK(r, tok) {
		t.Fatal("userinfo after the groups were narrowed")
	}
	if _, err := r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); oauthError(err) != "invalid_grant" {
		t.Fatalf("refresh after the groups were narrowed: %v", err)
	}
	c.AllowedGroups = nil
	d.addClient(*c)
	if _, err := r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("the revoked grant came back when the groups were widened again")
	}
}

// introspect asks the introspection endpoint as the test's relying party whether token is active.
func introspect(t *testing.T, d *idp, token string) bool {
	t.Helper()
	return introspectAs(t, d, rpID, rpSecret, token)
}

// introspectAs asks the introspection endpoint as client id whether token is active.
func introspectAs(t *testing.T, d *idp, id, secret, token string) bool {
	t.Helper()
	req, _ := http.NewRequest("POST", d.issuer+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("introspection answer: %v", err)
	}
	return out.Active
}

// rows counts a table's rows in the test's database (read through a second connection).
func (d *idp) rows(table string) int {
	d.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(d.dataDir, "host.db")+"?mode=ro")
	if err != nil {
		d.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		d.t.Fatal(err)
	}
	return n
}

// Expired authorization requests, code tombstones, access tokens and whole refresh
// families are purged (each after its own expiry); a family with a live token stays whole.
func TestPurgeRemovesExpiredOIDCRows(t *testing.T) {
	d := newIDP(t)
	r := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess)
	ctx := context.Background()
	tok, _ := r.login(t, d.browser(), "friend")
	if _, err := r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatal(err)
	}
	startAuthorize(t, d.browser(), r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	tables := []string{"oidc_auth_requests", "oidc_codes", "oidc_tokens", "oidc_refresh"}
	count := func() []int {
		var out []int
		for _, tb := range tables {
			out = append(out, d.rows(tb))
		}
		return out
	}
	if _, err := d.store.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(); !slices.Equal(got, []int{1, 1, 0, 2}) {
		t.Fatalf("after a purge of live rows %v: %v, want [1 1 0 2] (the exchanged request is gone already; "+
			"each access token is in the row of the refresh token issued with it)", tables, got)
	}
	d.store.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	if _, err := d.store.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(); !slices.Equal(got, []int{0, 0, 0, 2}) {
		t.Fatalf("after two hours %v: %v, want [0 0 0 2] (the refresh family lives 30 days)", tables, got)
	}
	d.store.SetClock(func() time.Time { return time.Now().Add(31 * 24 * time.Hour) })
	if _, err := d.store.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(); !slices.Equal(got, []int{0, 0, 0, 0}) {
		t.Fatalf("after 31 days %v: %v, want none", tables, got)
	}
}

// revoke asks the revocation endpoint, as client id with secret, to revoke token.
func revoke(t *testing.T, d *idp, id, secret, token, hint string) {
	t.Helper()
	req, _ := http.NewRequest("POST", d.issuer+"/revoke", strings.NewReader(url.Values{"token": {token}, "token_type_hint": {hint}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// Revoking a refresh token revokes its family (the access token issued with it too), and
// only the client a token was issued to can revoke it: another registered client's try
// leaves the refresh and access tokens working.
func TestRevocationOnlyByItsOwnClient(t *testing.T) {
	d := newIDP(t)
	const otherID, otherSecret = "other-app", "other-app-secret-0123456789abcdef"
	d.addClient(store.OIDCClient{ID: otherID, Name: "Other app", SecretSHA256: openid.HashSecret(otherSecret),
		RedirectURIs: []string{"http://127.0.0.1:9/other"}, GrantTypes: []string{openid.GrantCode, openid.GrantRefresh}})
	r := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess)
	ctx := context.Background()
	tok, _ := r.login(t, d.browser(), "friend")
	revoke(t, d, otherID, otherSecret, tok.AccessToken, "access_token")
	if !userinfoOK(r, tok) {
		t.Fatal("another client revoked the access token")
	}
	revoke(t, d, otherID, otherSecret, tok.RefreshToken, "refresh_token")
	next, err := r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("another client revoked the refresh token: %v", err)
	}
	revoke(t, d, rpID, rpSecret, next.RefreshToken, "refresh_token")
	if _, err := r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); err == nil {
		t.Fatal("the revoked refresh token still works")
	}
	if userinfoOK(r, next) {
		t.Fatal("the access token of the revoked family still works")
	}
}

// A client id that does not exist is refused as a wrong secret is: the token endpoint does
// not tell which client ids exist (nor answer a server error for a caller's mistake).
func TestUnknownClientRefusedLikeAWrongSecret(t *testing.T) {
	d := newIDP(t)
	status := func(id, secret string) int {
		resp, err := http.PostForm(d.issuer+"/oauth/token", url.Values{"client_id": {id}, "client_secret": {secret},
			"grant_type": {"refresh_token"}, "refresh_token": {"whatever"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	wrong, unknown := status(rpID, "not-the-secret"), status("no-such-client", "not-the-secret")
	if unknown != wrong || unknown >= 500 {
		t.Fatalf("unknown client %d, wrong secret %d: want the same refusal", unknown, wrong)
	}
}
