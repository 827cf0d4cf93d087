package openid_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// oauthError is the error code of a failed token request.
func oauthError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// codeFor runs the authorization as persona and returns a code and its verifier, unexchanged.
func (r *rp) codeFor(t *testing.T, b *browser, persona string) (string, string) {
	verifier := oauth2.GenerateVerifier()
	p := b.authorize(r.config.AuthCodeURL(randomString(), gooidc.Nonce(randomString()), oauth2.S256ChallengeOption(verifier)), persona)
	code, _ := codeOf(t, p)
	return code, verifier
}

func userinfoOK(r *rp, tok *oauth2.Token) bool {
	_, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	return err == nil
}

// A code used twice gets invalid_grant and revokes every token of its grant.
func TestCodeUsedTwiceRevokesTheGrant(t *testing.T) {
	d := newIDP(t)
	r := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess)
	b := d.browser()
	code, verifier := r.codeFor(t, b, "friend")
	tok, err := r.config.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil || !userinfoOK(r, tok) {
		t.Fatalf("first exchange: %v", err)
	}
	if _, err := r.config.Exchange(context.Background(), code, oauth2.VerifierOption(verifier)); oauthError(err) != "invalid_grant" {
		t.Fatalf("second exchange: %v", err)
	}
	if userinfoOK(r, tok) {
		t.Fatal("the first exchange's access token still works after the code was replayed")
	}
	if _, err := r.config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("the first exchange's refresh token still works after the code was replayed")
	}
}

// Two exchanges of one code racing: one wins, and the grant ends revoked.
func TestRacingCodeExchanges(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	for round := 0; round < 3; round++ {
		code, verifier := r.codeFor(t, d.browser(), "friend")
		var wg sync.WaitGroup
		toks := make([]*oauth2.Token, 4)
		errs := make([]error, 4)
		for i := range toks {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				toks[i], errs[i] = r.config.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
			}(i)
		}
		wg.Wait()
		wins := 0
		for i, err := range errs {
			if err == nil {
				wins++
				if userinfoOK(r, toks[i]) {
					t.Fatal("the winner's token survived a racing second use")
				}
			} else if oauthError(err) != "invalid_grant" {
				t.Fatalf("loser: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d exchanges of one code succeeded", wins)
		}
	}
}

// A rotated refresh token presented again revokes its family; racing refreshes leave one winner at most.
func TestRefreshReuseRevokesTheFamily(t *testing.T) {
	d := newIDP(t)
	r := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess)
	tok, _ := r.login(t, d.browser(), "friend")
	refresh := func(rt string) (*oauth2.Token, error) {
		return r.config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
	}
	next, err := refresh(tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh(tok.RefreshToken); oauthError(err) != "invalid_grant" {
		t.Fatalf("reused refresh token: %v", err)
	}
	if _, err := refresh(next.RefreshToken); err == nil {
		t.Fatal("the family's newest token works after a reuse")
	}
	if userinfoOK(r, next) {
		t.Fatal("the family's access token works after a reuse")
	}
	// Racing refreshes of one token.
	tok, _ = r.login(t, d.browser(), "friend")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := refresh(tok.RefreshToken); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins > 1 {
		t.Fatalf("%d racing refreshes of one token succeeded", wins)
	}
}

// Refresh tokens only with offline_access and a client allowed to refresh.
func TestRefreshOnlyWhenAskedAndAllowed(t *testing.T) {
	d := newIDP(t)
	if tok, _ := d.rp().login(t, d.browser(), "friend"); tok.RefreshToken != "" {
		t.Fatal("refresh token without offline_access")
	}
	c, _ := d.store.OIDCClientByID(context.Background(), rpID)
	c.GrantTypes = []string{"authorization_code"}
	d.addClient(*c)
	if tok, _ := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess).login(t, d.browser(), "friend"); tok.RefreshToken != "" {
		t.Fatal("refresh token for a client without the refresh_token grant")
	}
}

func TestUnknownRedirectURIGetsAnErrorPageNeverARedirect(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	for _, ru := range []string{"https://evil.example/cb", rpRedirect + "/extra", rpRedirect + "?x=1", "http://127.0.0.1:9/CALLBACK"} {
		cfg := r.config
		cfg.RedirectURL = ru
		p := d.browser().Do("GET", cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
		if p.Redirect != "" || p.Status < 400 {
			t.Errorf("redirect_uri %s: %d → %q", ru, p.Status, p.Redirect)
		}
	}
}

func TestWrongClientSecretAndVerifier(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	b := d.browser()
	code, verifier := r.codeFor(t, b, "friend")
	bad := r.config
	bad.ClientSecret = "wrong-secret"
	if _, err := bad.Exchange(context.Background(), code, oauth2.VerifierOption(verifier)); oauthError(err) != "invalid_client" {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := r.config.Exchange(context.Background(), code, oauth2.VerifierOption(oauth2.GenerateVerifier())); oauthError(err) != "invalid_grant" {
		t.Fatalf("wrong verifier: %v", err)
	}
}

// Public clients need S256; plain is refused for everyone.
func TestPKCERules(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	pub := r.config
	pub.ClientID, pub.ClientSecret, pub.RedirectURL = publicID, "", "http://127.0.0.1:9/cli"
	errorOf := func(p page) string {
		u, _ := url.Parse(p.Redirect)
		return u.Query().Get("error") + " " + u.Query().Get("error_description")
	}
	if e := errorOf(d.browser().Follow(pub.AuthCodeURL("s"))); !strings.Contains(e, "PKCE") {
		t.Fatalf("public client without PKCE: %q", e)
	}
	plain := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)), oauth2.SetAuthURLParam("code_challenge_method", "plain")}
	for _, cfg := range []oauth2.Config{pub, r.config} {
		if e := errorOf(d.browser().Follow(cfg.AuthCodeURL("s", plain...))); !strings.Contains(e, "plain") {
			t.Fatalf("%s with plain: %q", cfg.ClientID, e)
		}
	}
	// A public client with S256 gets in.
	verifier := oauth2.GenerateVerifier()
	p := d.browser().authorize(pub.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "friend")
	u, _ := url.Parse(p.Redirect)
	if _, err := pub.Exchange(context.Background(), u.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("public client with S256: %v (%s)", err, p.Redirect)
	}
}

func TestExpiredCode(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	code, verifier := r.codeFor(t, d.browser(), "friend")
	d.store.SetClock(func() time.Time { return time.Now().Add(2 * time.Minute) })
	defer d.store.SetClock(time.Now)
	if _, err := r.config.Exchange(context.Background(), code, oauth2.VerifierOption(verifier)); oauthError(err) != "invalid_grant" {
		t.Fatalf("expired code: %v", err)
	}
}

func TestPromptNoneWithoutSession(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	p := d.browser().Follow(r.config.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
	u, _ := url.Parse(p.Redirect)
	if !strings.HasPrefix(p.Redirect, rpRedirect) || u.Query().Get("error") != "login_required" || u.Query().Get("state") != "st" {
		t.Fatalf("prompt=none: %d %s", p.Status, p.Redirect)
	}
}

// prompt=login and max_age ask for a new upstream login; auth_time tells when it happened.
func TestPromptLoginAndMaxAgeForceAFreshLogin(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	b := d.browser()
	_, first := r.login(t, b, "friend")
	// A signed-in browser passes straight through...
	p := b.Follow(r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if !strings.HasPrefix(p.Redirect, rpRedirect) {
		t.Fatalf("signed in: %d %s", p.Status, p.Redirect)
	}
	// ...but prompt=login and a max_age shorter than the session show the login page again.
	time.Sleep(1100 * time.Millisecond)
	for _, opt := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0")} {
		p := b.Follow(r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), opt))
		if p.Redirect != "" || !strings.Contains(p.Body, "Sign in with") {
			t.Fatalf("no fresh login asked: %d %s", p.Status, p.Redirect)
		}
	}
	_, fresh := r.login(t, b, "friend", oauth2.SetAuthURLParam("prompt", "login"))
	if fresh.AuthTime <= first.AuthTime {
		t.Fatalf("auth_time %d not after the first login's %d", fresh.AuthTime, first.AuthTime)
	}
}

func TestAllowedGroupsRefuseAtAuthorize(t *testing.T) {
	d := newIDP(t)
	c, _ := d.store.OIDCClientByID(context.Background(), rpID)
	c.AllowedGroups = []string{"plex-owner"}
	d.addClient(*c)
	r := d.rp()
	p := d.browser().authorize(r.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "friend")
	if p.Status != http.StatusForbidden || p.Redirect != "" || !strings.Contains(p.Body, "Demo app") {
		t.Fatalf("friend outside the allowed groups: %d %s", p.Status, p.Redirect)
	}
	if _, cl := r.login(t, d.browser(), "owner"); cl.Subject == "" {
		t.Fatal("owner refused")
	}
}

// Disabling the user or the source ends userinfo and refresh at once.
func TestDisabledUserAndSourceEndTokens(t *testing.T) {
	d := newIDP(t)
	r := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess)
	ctx := context.Background()
	tok, c := r.login(t, d.browser(), "friend")
	u, err := d.store.UserByPublicID(ctx, c.Subject)
	if err != nil {
		t.Fatal(err)
	}
	_ = d.store.SetDisabled(ctx, u.ID, true, store.DisabledByAdmin)
	if userinfoOK(r, tok) {
		t.Fatal("userinfo for a disabled user")
	}
	if _, err := r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("refresh for a disabled user")
	}
	_ = d.store.SetDisabled(ctx, u.ID, false, "")
	tok, _ = r.login(t, d.browser(), "friend")
	_ = d.store.SetEnabled(ctx, d.source.ID, false)
	if userinfoOK(r, tok) {
		t.Fatal("userinfo after the source was disabled")
	}
	if _, err := r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("refresh after the source was disabled")
	}
}

// end_session without a valid hint asks first: a bare cross-site GET logs no one out.
func TestLogoutWithoutHintAsksFirst(t *testing.T) {
	d := newIDP(t)
	r := d.rp()
	b := d.browser()
	r.login(t, b, "friend")
	p := b.Follow(d.issuer + "/end_session?post_logout_redirect_uri=" + url.QueryEscape(rpLogout) + "&client_id=" + rpID)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Sign out?") {
		t.Fatalf("no confirmation: %d %s", p.Status, p.Redirect)
	}
	if p := b.Do("GET", "/profile", nil); p.Status != http.StatusOK {
		t.Fatal("logged out by a GET without a hint")
	}
	csrf := p.CSRF()
	if got := b.Do("POST", "/oidc/logout", url.Values{"csrf": {"forged"}, "redirect": {rpLogout}}); got.Status != http.StatusForbidden {
		t.Fatalf("forged confirmation: %d", got.Status)
	}
	got := b.Do("POST", "/oidc/logout", url.Values{"csrf": {csrf}, "redirect": {"https://evil.example/"}})
	if got.Redirect != "/oidc/logged-out" && got.Redirect != d.issuer+"/oidc/logged-out" {
		t.Fatalf("logout to an unregistered target: %s", got.Redirect)
	}
	if p := b.Do("GET", "/profile", nil); p.Status == http.StatusOK {
		t.Fatal("still signed in after the confirmed logout")
	}
}

// Tokens and keys survive a restart; a rotated key keeps old id_tokens verifiable while a
// relying party with a cached JWKS verifies the new ones.
func TestRestartAndKeyRotation(t *testing.T) {
	d := newIDP(t)
	r := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess)
	tok, _ := r.login(t, d.browser(), "friend")
	d.start("RS256")
	if !userinfoOK(r, tok) {
		t.Fatal("access token lost with a restart")
	}
	r.verify(t, tok, "")
	if _, err := r.config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh after a restart: %v", err)
	}
	// Rotate: import the second key and restart (a running server picks it up within keyRefresh).
	if _, err := importKey(d, "rs256-b.pem"); err != nil {
		t.Fatal(err)
	}
	d.start("RS256")
	tok2, _ := r.login(t, d.browser(), "friend") // the RP's cached JWKS lacks the new kid: it refetches
	if kid(tok2) == kid(tok) {
		t.Fatal("the new id_token is signed by the old key")
	}
	r.verify(t, tok, "") // the retired key still verifies
	var jwks struct {
		Keys []struct{ Kid, Alg string } `json:"keys"`
	}
	resp, err := http.Get(d.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = json.Unmarshal(body, &jwks)
	if len(jwks.Keys) != 2 {
		t.Fatalf("JWKS %s", body)
	}
	for _, k := range jwks.Keys {
		if k.Alg != "RS256" {
			t.Fatalf("JWKS key alg %q", k.Alg)
		}
	}
}

// The provider signs with the configured default algorithm, never none or HS256; discovery
// lists the default first, then the other algorithms a client may be registered with.
func TestSigningAlgorithm(t *testing.T) {
	d := newIDP(t)
	if _, err := importKey(d, "es256-a.pem"); err != nil {
		t.Fatal(err)
	}
	d.start("ES256")
	var disc struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	resp, err := http.Get(d.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if strings.Join(disc.Algs, ",") != "ES256,RS256,EdDSA" { // the default first, then the others a client may have
		t.Fatalf("algorithms %v", disc.Algs)
	}
	r := d.rp()
	r.verifier = r.provider.Verifier(&gooidc.Config{ClientID: rpID, SupportedSigningAlgs: []string{"ES256"}})
	tok, _ := r.login(t, d.browser(), "friend")
	if kid(tok) == "" || alg(tok) != "ES256" {
		t.Fatalf("id_token alg %q", alg(tok))
	}
}

// A user refused by an application's allowed groups is not left at a dead end: the page names
// the app and is headed as signed in; "Back to <app>" ends the request and answers the app at
// its registered redirect URI with error=access_denied and its state; "Use another account"
// signs out and returns to the same authorization, whose login page says "Sign in to <app>".
func TestRefusedUserWaysOn(t *testing.T) {
	d := newIDP(t)
	c, _ := d.store.OIDCClientByID(context.Background(), rpID)
	c.AllowedGroups = []string{"plex-owner"}
	d.addClient(*c)
	r := d.rp()
	b := d.browser()
	idRE := regexp.MustCompile(`name="id" value="([^"]+)"`)
	refused := func(p page) (csrf, id string) {
		t.Helper()
		if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "No access to Demo app") || !strings.Contains(p.Body, `id="other-account"`) ||
			!strings.Contains(p.Body, "Back to Demo app") || !strings.Contains(p.Body, `id="nav-logout"`) || strings.Contains(p.Body, `id="nav-login"`) {
			t.Fatalf("refusal page: %d %s", p.Status, p.Body)
		}
		return p.CSRF(), idRE.FindStringSubmatch(p.Body)[1]
	}
	login := b.Follow(r.config.AuthCodeURL("st4te", s256()))
	if !strings.Contains(login.Body, "Sign in to Demo app") {
		t.Fatalf("the login page does not name the app: %s", login.Body)
	}
	csrf, id := refused(b.SignIn(login, "plex", "friend"))
	if p := b.Do("POST", openid.BackToAppPath, url.Values{"id": {id}}); p.Status != http.StatusForbidden {
		t.Fatalf("back without the CSRF token: %d %s", p.Status, p.Redirect)
	}
	p := b.Do("POST", openid.BackToAppPath, url.Values{"csrf": {csrf}, "id": {id}})
	back, err := url.Parse(p.Redirect)
	if p.Status != http.StatusFound || err != nil || !strings.HasPrefix(p.Redirect, rpRedirect+"?") ||
		back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "st4te" || back.Query().Get("code") != "" {
		t.Fatalf("back to the app: %d %s", p.Status, p.Redirect)
	}
	if p := b.Do("POST", openid.BackToAppPath, url.Values{"csrf": {csrf}, "id": {id}}); p.Status != http.StatusBadRequest {
		t.Fatalf("the ended request answered again: %d %s", p.Status, p.Redirect)
	}
	// Another account: signed out, and back to the same authorization, which now succeeds.
	csrf, id = refused(b.Follow(r.config.AuthCodeURL("again", s256())))
	p = b.Do("POST", openid.OtherAccountPath, url.Values{"csrf": {csrf}, "id": {id}})
	if p.Status != http.StatusSeeOther || !strings.Contains(p.Redirect, "/login?return=") {
		t.Fatalf("another account: %d %s", p.Status, p.Redirect)
	}
	login = b.Follow(p.Redirect)
	if !strings.Contains(login.Body, "Sign in to Demo app") || strings.Contains(login.Body, `id="signed-in"`) {
		t.Fatalf("after another account: %s", login.Body)
	}
	if done := b.SignIn(login, "plex", "owner"); !strings.HasPrefix(done.Redirect, rpRedirect+"?") || !strings.Contains(done.Redirect, "code=") ||
		!strings.Contains(done.Redirect, "state=again") {
		t.Fatalf("the owner's sign-in for the same request: %d %s", done.Status, done.Redirect)
	}
}
