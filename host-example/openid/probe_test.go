package openid_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Review probes of the per-client signing algorithm (issue 34 §3), against a running host
// with the real plugin and the simulated plex.tv.

// rawRefresh refreshes refresh as the client id/secret over the wire: the status, the
// id_token's algorithm and the new refresh token.
func rawRefresh(issuer, id, secret, refresh string) (int, string, string, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	req, err := http.NewRequest(http.MethodPost, issuer+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	var out struct {
		IDToken      string `json:"id_token"`
		RefreshToken string `json:"refresh_token"`
	}
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &out)
	h := map[string]string{}
	if parts := strings.Split(out.IDToken, "."); len(parts) == 3 {
		b, _ := base64.RawURLEncoding.DecodeString(parts[0])
		_ = json.Unmarshal(b, &h)
	}
	return resp.StatusCode, h["alg"], out.RefreshToken, nil
}

// forgedJWT is a token of header and claims signed with HMAC-SHA256 under key, or unsigned
// (alg none) when key is nil.
func forgedJWT(header, claims map[string]any, key []byte) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	in := enc(header) + "." + enc(claims)
	if key == nil {
		return in + "."
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Probe: with all three algorithms in use, the JWKS holds public halves only; two clients'
// refreshes run at the same time each keep their own algorithm (the context slot of one
// request never reaches another's); a refresh token or a code of one client is worth nothing
// with another client's credentials; an id_token_hint signed "none" or HS256 with a client
// secret (algorithm confusion) logs nobody out without asking.
func TestProbeSigningAlgorithmDoors(t *testing.T) {
	d := newIDP(t)
	d.addClient(store.OIDCClient{ID: esID, Name: "ES app", SecretSHA256: openid.HashSecret(esSecret), RedirectURIs: []string{rpRedirect},
		PostLogoutURIs: []string{rpLogout}, GrantTypes: []string{openid.GrantCode, openid.GrantRefresh}, IDTokenAlg: openid.ES256})
	d.addClient(store.OIDCClient{ID: "ed-app", Name: "Ed app", SecretSHA256: openid.HashSecret(esSecret), RedirectURIs: []string{rpRedirect},
		GrantTypes: []string{openid.GrantCode}, IDTokenAlg: openid.EdDSA})
	d.start("RS256")

	resp, err := http.Get(d.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []map[string]any }
	_ = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	kinds := map[string]bool{}
	for _, k := range set.Keys {
		kinds[k["kty"].(string)] = true
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
			if _, ok := k[private]; ok {
				t.Errorf("the JWKS publishes the private parameter %q of %v", private, k["kid"])
			}
		}
	}
	if !kinds["RSA"] || !kinds["EC"] || !kinds["OKP"] {
		t.Fatalf("the JWKS lacks a key type of the algorithms in use: %v", kinds)
	}

	scopes := []string{gooidc.ScopeOpenID, "profile", "groups", gooidc.ScopeOfflineAccess}
	rs, es := d.rp(scopes...), d.rpFor(esID, esSecret, scopes...)
	b := d.browser()
	rsTok, rsClaims := rs.login(t, b, "friend")
	esTok, _ := es.login(t, b, "friend")

	// Another client's credentials with a refresh token: refused, no tokens, either way.
	if s, a, next, _ := rawRefresh(d.issuer, rpID, rpSecret, esTok.RefreshToken); s == http.StatusOK || next != "" || a != "" {
		t.Fatalf("the ES256 client's refresh token with the RS256 client's credentials: %d %q", s, a)
	}
	if s, a, next, _ := rawRefresh(d.issuer, esID, esSecret, rsTok.RefreshToken); s == http.StatusOK || next != "" || a != "" {
		t.Fatalf("the RS256 client's refresh token with the ES256 client's credentials: %d %q", s, a)
	}
	// A code of the ES256 client exchanged by the RS256 client.
	verifier := oauth2.GenerateVerifier()
	code, _ := codeOf(t, b.authorize(es.config.AuthCodeURL("state-"+randomString(), oauth2.S256ChallengeOption(verifier)), "friend"))
	if tok, err := rs.config.Exchange(context.Background(), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatalf("the ES256 client's code exchanged by the RS256 client: %s", alg(tok))
	}

	// The two clients' refreshes at the same time: each answer is of its own client's algorithm.
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for _, c := range []struct{ id, secret, refresh, want string }{
		{rpID, rpSecret, rsTok.RefreshToken, "RS256"}, {esID, esSecret, esTok.RefreshToken, "ES256"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			refresh := c.refresh
			for i := range 15 {
				s, a, next, err := rawRefresh(d.issuer, c.id, c.secret, refresh)
				if err != nil || s != http.StatusOK || a != c.want {
					errs <- c.id + ": refresh " + string(rune('0'+i%10)) + " answered " + http.StatusText(s) + " alg " + a
					return
				}
				refresh = next
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}

	// Forged logout hints: "none" and HS256 keyed with the client's secret (and with the
	// client secret's hash, and with the JWKS's RSA modulus) are no hint: the host asks.
	claims := map[string]any{"iss": d.issuer, "sub": rsClaims.Subject, "aud": rpID, "exp": time.Now().Add(time.Hour).Unix(),
		"iat": time.Now().Unix()}
	kidRS := kid(rsTok)
	for name, tok := range map[string]string{
		"none":               forgedJWT(map[string]any{"alg": "none", "typ": "JWT"}, claims, nil),
		"none with a kid":    forgedJWT(map[string]any{"alg": "none", "kid": kidRS}, claims, nil),
		"HS256 by secret":    forgedJWT(map[string]any{"alg": "HS256", "kid": kidRS}, claims, []byte(rpSecret)),
		"HS256 by no kid":    forgedJWT(map[string]any{"alg": "HS256"}, claims, []byte(rpSecret)),
		"HS256 by an ES key": forgedJWT(map[string]any{"alg": "HS256", "kid": kid(esTok)}, claims, []byte(esSecret)),
	} {
		end, _ := url.Parse(d.issuer + "/end_session")
		end.RawQuery = url.Values{"id_token_hint": {tok}, "post_logout_redirect_uri": {rpLogout}, "state": {"bye"}}.Encode()
		if p := b.Do("GET", end.String(), nil); p.Status == http.StatusFound && strings.HasPrefix(p.Redirect, rpLogout) {
			t.Errorf("a forged id_token_hint (%s) logged out without asking: %d %s", name, p.Status, p.Redirect)
		}
	}
	// The browser is still signed in: a new authorization needs no sign-in.
	if p := b.Follow(rs.config.AuthCodeURL("state-"+randomString(), s256())); !strings.HasPrefix(p.Redirect, rpRedirect) {
		t.Fatalf("the browser was signed out by a forged hint: %d %s", p.Status, p.Redirect)
	}
}
