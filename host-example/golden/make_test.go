package golden_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

var update = flag.Bool("update", false, "remake the golden folder (only with the code of the version it is named for)")

// far is when the golden sessions and tokens expire (the year 2100): the tests do not age.
const far = 4102444800

// TestMakeGolden makes the golden folder with today's code: a source, a user who logged
// in, a forward-auth rule and session, a signed notice, an OpenID Connect client and a code
// exchange's tokens, by the same calls the host makes.
func TestMakeGolden(t *testing.T) {
	if !*update {
		t.Skip("the golden folder is made once: -args -update remakes it")
	}
	ctx := context.Background()
	if err := os.RemoveAll(folder); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(folder)
	if err != nil {
		t.Fatal(err)
	}
	var tk tokens
	src, err := st.CreateSource(ctx, "plex", sourceSlug, "Plex")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveConfig(ctx, src.ID, json.RawMessage(`{"access_mode":"any"}`)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetEnabled(ctx, src.ID, true); err != nil {
		t.Fatal(err)
	}
	done, err := st.FinishLogin(ctx, store.User{SourceID: src.ID, Subject: userSubject, Username: userName, Email: "golden@example.com",
		EmailVerified: true, Name: "Golden User", Groups: []string{userGroup}},
		store.Event{SourceID: src.ID, Kind: "login_allowed", Subject: userSubject, Name: userName}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tk.HostSession = done.Token
	u, err := st.User(ctx, done.UserID)
	if err != nil {
		t.Fatal(err)
	}
	tk.PublicID = u.PublicID
	if _, err := st.PutForwardRule(ctx, store.ForwardRule{Name: "Golden app", Host: forwardHost, Groups: []string{userGroup}}); err != nil {
		t.Fatal(err)
	}
	if tk.Forward, _, err = forwardauth.StartSession(ctx, st, done.SessionID, time.Hour); err != nil {
		t.Fatal(err)
	}
	payload := base64.RawURLEncoding.EncodeToString([]byte("info|Saved."))
	tk.Notice = payload + "." + st.MAC(noticeLabel, payload)[:32]
	tk.AnonymousToken = store.RandomID(32)
	tk.AnonymousCSRF = st.AnonymousSession(tk.AnonymousToken).CSRF
	if err := st.PutOIDCClient(ctx, store.OIDCClient{ID: clientID, Name: "Golden app", SecretSHA256: openid.HashSecret(clientSecret),
		RedirectURIs: []string{redirectURI}, GrantTypes: []string{openid.GrantCode, openid.GrantRefresh}, Origin: "ui"}); err != nil {
		t.Fatal(err)
	}
	sess, err := st.Session(ctx, done.Token)
	if err != nil {
		t.Fatal(err)
	}
	codeExchange(t, st, u, sess.ID, &tk)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	farExpiries(t)
	b, _ := json.MarshalIndent(tk, "", "  ")
	if err := os.WriteFile(filepath.Join(folder, "tokens.json"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// codeExchange signs u in (in the host session sessionID) to the golden client through the
// provider (authorize, login, token) and keeps the tokens.
func codeExchange(t *testing.T, st *store.Store, u *store.User, sessionID string, tk *tokens) {
	srv := provider(t, st, &sessions{user: u, id: sessionID})
	b := browser()
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid profile email groups offline_access"}, "state": {"golden-state"}, "nonce": {"golden-nonce"}}
	res, err := b.Get(srv.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.Path, openid.LoginPath) {
		t.Fatalf("authorize: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, err = b.Get(srv.URL + loc.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	code := query(t, res).Get("code")
	if code == "" {
		t.Fatalf("login: no code in %q", res.Header.Get("Location"))
	}
	status, out := postForm(t, srv, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}})
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	tk.Access, _ = out["access_token"].(string)
	tk.Refresh, _ = out["refresh_token"].(string)
	tk.IDToken, _ = out["id_token"].(string)
	if tk.Access == "" || tk.Refresh == "" || tk.IDToken == "" {
		t.Fatalf("token: %v", out)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(tk.IDToken, ".")[0])
	var h struct{ Kid string }
	_ = json.Unmarshal(header, &h)
	tk.SigningKeyID = h.Kid
}

// farExpiries moves the expiry of every session and token to the year 2100.
func farExpiries(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(folder, "host.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range []string{"sessions", "forward_sessions", "oidc_tokens", "oidc_refresh"} {
		if _, err := db.Exec(`UPDATE `+table+` SET expires_at = ?`, far); err != nil {
			t.Fatal(err)
		}
	}
	// an access token issued with a refresh token lives in its row (schema step 23)
	if _, err := db.Exec(`UPDATE oidc_refresh SET access_expires = ? WHERE access_expires != 0`, far); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA journal_mode = DELETE; VACUUM`); err != nil {
		t.Fatal(err)
	}
}
