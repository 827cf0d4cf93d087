package golden_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// open opens a copy of the golden folder with today's code.
func open(t *testing.T) (*store.Store, *store.User, tokens) {
	t.Helper()
	st, err := store.Open(copyFolder(t))
	if err != nil {
		t.Fatalf("the golden database does not open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	src, err := st.SourceBySlug(context.Background(), sourceSlug)
	if err != nil {
		t.Fatalf("source: %v", err)
	}
	u, err := st.FindUser(context.Background(), src.ID, userSubject)
	if err != nil {
		t.Fatalf("user: %v", err)
	}
	return st, u, readTokens(t)
}

// The database opens at today's schema, with its user, source, rule and client, and its
// encrypted rows (the source's config, the signing key) decrypt.
func TestDatabaseOpens(t *testing.T) {
	st, u, tk := open(t)
	ctx := context.Background()
	if u.Username != userName || u.PublicID != tk.PublicID || len(u.Groups) != 1 || u.Groups[0] != userGroup {
		t.Fatalf("user %+v", u)
	}
	src, err := st.SourceBySlug(ctx, sourceSlug)
	if err != nil || !src.Enabled || string(src.Config) != `{"access_mode":"any"}` {
		t.Fatalf("source %+v %v", src, err)
	}
	rules, err := st.ForwardRules(ctx)
	if err != nil || len(rules) != 1 || rules[0].Host != forwardHost {
		t.Fatalf("rules %+v %v", rules, err)
	}
	c, err := st.OIDCClientByID(ctx, clientID)
	if err != nil || c.RedirectURIs[0] != redirectURI {
		t.Fatalf("client %+v %v", c, err)
	}
	if _, err := st.Meta(ctx, "oidc_crypto_key"); err != nil {
		t.Fatalf("the provider's crypto key: %v", err)
	}
}

// The host session cookie resolves to the user; a changed one does not.
func TestHostSession(t *testing.T) {
	st, u, tk := open(t)
	sess, err := st.Session(context.Background(), tk.HostSession)
	if err != nil || sess.UserID != u.ID {
		t.Fatalf("session %+v %v", sess, err)
	}
	if _, err := st.Session(context.Background(), flip(tk.HostSession)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a changed session cookie: %v", err)
	}
}

// The anonymous session's CSRF token is still the MAC of its cookie.
func TestAnonymousCSRF(t *testing.T) {
	st, _, tk := open(t)
	if got := st.AnonymousSession(tk.AnonymousToken).CSRF; got != tk.AnonymousCSRF {
		t.Fatalf("anonymous CSRF %q, golden %q", got, tk.AnonymousCSRF)
	}
	if got := st.AnonymousSession(flip(tk.AnonymousToken)).CSRF; got == tk.AnonymousCSRF {
		t.Fatal("a changed cookie has the same CSRF token")
	}
}

// The signed notice verifies as web's flash cookie does; a changed one does not.
func TestNotice(t *testing.T) {
	st, _, tk := open(t)
	verify := func(v string) bool {
		payload, mac, _ := strings.Cut(v, ".")
		return len(mac) == 32 && hmac.Equal([]byte(mac), []byte(st.MAC(noticeLabel, payload)[:32]))
	}
	if !verify(tk.Notice) {
		t.Fatal("the golden notice does not verify")
	}
	if verify(flip(tk.Notice)) || verify("x"+tk.Notice[1:]) {
		t.Fatal("a changed notice verifies")
	}
}

// The forward-auth cookie passes forward-auth's own check (nginx's endpoint) as its user; a
// changed one is sent to log in.
func TestForwardCookie(t *testing.T) {
	st, u, tk := open(t)
	pub, _ := url.Parse(issuer)
	fa, err := forwardauth.New(forwardauth.Options{PublicURL: pub, Store: st, Sessions: &sessions{}, Pages: &sessions{}})
	if err != nil {
		t.Fatal(err)
	}
	ask := func(token string) *http.Response {
		r := httptest.NewRequest(http.MethodGet, forwardauth.NginxPath, nil)
		r.Header.Set("X-Original-URL", "http://"+forwardHost+"/")
		r.Header.Set("X-Original-Method", "GET")
		r.Header.Set("X-Original-Host", forwardHost)
		r.AddCookie(&http.Cookie{Name: fa.CookieName(), Value: token})
		w := httptest.NewRecorder()
		fa.ServeHTTP(w, r)
		return w.Result()
	}
	res := ask(tk.Forward)
	if res.StatusCode != http.StatusOK || res.Header.Get(forwardauth.HeaderUser) != u.Username ||
		res.Header.Get(forwardauth.HeaderID) != u.PublicID || res.Header.Get(forwardauth.HeaderGroups) != userGroup {
		t.Fatalf("the golden forward-auth cookie: %d %v", res.StatusCode, res.Header)
	}
	id, mac, _ := strings.Cut(tk.Forward, ".")
	for _, bad := range []string{flip(tk.Forward), flip(id) + "." + mac, id + "." + flip(mac), id + "." + mac[:31]} {
		if res := ask(bad); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a changed forward-auth cookie %q: %d", bad, res.StatusCode)
		}
	}
}

// The access token passes introspection and userinfo as the user's; a changed one does not.
func TestAccessToken(t *testing.T) {
	st, u, tk := open(t)
	srv := provider(t, st, &sessions{})
	status, out := postForm(t, srv, "/oauth/introspect", url.Values{"token": {tk.Access}})
	if status != http.StatusOK || out["active"] != true || out["sub"] != u.PublicID || out["client_id"] != clientID {
		t.Fatalf("introspection of the golden access token: %d %v", status, out)
	}
	status, out = postForm(t, srv, "/oauth/introspect", url.Values{"token": {flip(tk.Access)}})
	if status != http.StatusOK || out["active"] == true {
		t.Fatalf("introspection of a changed access token: %d %v", status, out)
	}
	userinfo := func(token string) (int, map[string]any) {
		r, _ := http.NewRequest(http.MethodGet, srv.URL+"/userinfo", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		b, _ := io.ReadAll(res.Body)
		_ = json.Unmarshal(b, &m)
		return res.StatusCode, m
	}
	if status, m := userinfo(tk.Access); status != http.StatusOK || m["sub"] != u.PublicID || m["preferred_username"] != userName {
		t.Fatalf("userinfo of the golden access token: %d %v", status, m)
	}
	if status, _ := userinfo(flip(tk.Access)); status == http.StatusOK {
		t.Fatal("userinfo answers a changed access token")
	}
}

// The refresh token is exchanged for new tokens; a changed one is refused.
func TestRefreshToken(t *testing.T) {
	st, _, tk := open(t)
	srv := provider(t, st, &sessions{})
	status, out := postForm(t, srv, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {flip(tk.Refresh)}})
	if status == http.StatusOK {
		t.Fatalf("a changed refresh token was exchanged: %v", out)
	}
	status, out = postForm(t, srv, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.Refresh}})
	if status != http.StatusOK || out["access_token"] == nil || out["refresh_token"] == nil || out["refresh_token"] == tk.Refresh {
		t.Fatalf("the golden refresh token: %d %v", status, out)
	}
	status, out = postForm(t, srv, "/oauth/introspect", url.Values{"token": {out["access_token"].(string)}})
	if status != http.StatusOK || out["active"] != true {
		t.Fatalf("the refreshed access token: %d %v", status, out)
	}
}

// The provider keeps the golden signing key (no new one made) and publishes it: the golden
// id_token verifies against the JWKS; a changed one does not.
func TestSigningKey(t *testing.T) {
	st, _, tk := open(t)
	srv := provider(t, st, &sessions{})
	res, err := http.Get(srv.URL + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KeyID != tk.SigningKeyID {
		t.Fatalf("JWKS %+v, golden key %s", set.Keys, tk.SigningKeyID)
	}
	verify := func(tok string) error {
		jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			return err
		}
		_, err = jws.Verify(set.Keys[0])
		return err
	}
	if err := verify(tk.IDToken); err != nil {
		t.Fatalf("the golden id_token: %v", err)
	}
	parts := strings.Split(tk.IDToken, ".")
	if verify(parts[0]+"."+flip(parts[1])+"."+parts[2]) == nil {
		t.Fatal("a changed id_token verifies")
	}
}
