package golden_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// folder is the golden data folder of schema version 10.
const folder = "testdata/v10"

// Fixed names of the golden data.
const (
	issuer       = "http://golden.test"
	sourceSlug   = "plex"
	userSubject  = "golden-sub"
	userName     = "golden"
	userGroup    = "family"
	clientID     = "golden-app"
	clientSecret = "golden-app-secret-0123456789abcdef"
	redirectURI  = "http://127.0.0.1:9/callback"
	forwardHost  = "app.golden.test"
	noticeLabel  = "flash" // web/flash.go's MAC label
)

// tokens are the values the golden folder's host handed out (tokens.json).
type tokens struct {
	// HostSession is a host session cookie of the user.
	HostSession string `json:"host_session"`
	// Forward is a forward-auth cookie of the user.
	Forward string `json:"forward"`
	// Notice is a signed one-time notice (payload.mac, web's flash cookie).
	Notice string `json:"notice"`
	// AnonymousToken and AnonymousCSRF are an anonymous session's cookie and its CSRF token.
	AnonymousToken string `json:"anonymous_token"`
	AnonymousCSRF  string `json:"anonymous_csrf"`
	// Access, Refresh and IDToken are an OpenID Connect code exchange's answer.
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
	IDToken string `json:"id_token"`
	// PublicID is the user's sub; SigningKeyID the id_token's kid.
	PublicID     string `json:"public_id"`
	SigningKeyID string `json:"signing_key_id"`
}

// sessions are the host's sessions and pages as forward-auth and the provider see them: user (when
// set) is signed in, in the stored session id.
type sessions struct {
	user *store.User
	id   string
}

func (s *sessions) SignedIn(*http.Request) (*store.User, time.Time, bool) {
	if s.user == nil {
		return nil, time.Time{}, false
	}
	return s.user, time.Now(), true
}
func (s *sessions) SessionID(*http.Request) string { return s.id }
func (s *sessions) LoginURL(returnTo string) string {
	return "/login?return=" + url.QueryEscape(returnTo)
}
func (s *sessions) EndUserSession(*http.Request, int64) {}
func (s *sessions) Kept(*http.Request) bool             { return false }
func (s *sessions) CheckCSRF(*http.Request) bool        { return true }
func (s *sessions) ClientKey(*http.Request) string      { return "golden" }
func (s *sessions) Confirm(w http.ResponseWriter, _ *http.Request, _, _, _, _ string, _ map[string]string) {
	w.WriteHeader(http.StatusOK)
}
func (s *sessions) Message(w http.ResponseWriter, _ *http.Request, status int, title, text string) {
	http.Error(w, title+": "+text, status)
}
func (s *sessions) Offer(w http.ResponseWriter, _ *http.Request, status int, title, text string, _ []host.Way) {
	http.Error(w, title+": "+text, status)
}

// provider runs the OpenID Connect provider on st.
func provider(t *testing.T, st *store.Store, ss *sessions) *httptest.Server {
	t.Helper()
	iss, _ := url.Parse(issuer)
	p, err := openid.New(context.Background(), openid.Options{Issuer: iss, Store: st, Sessions: ss, Pages: ss})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv
}

// browser is a client that keeps cookies and does not follow redirects.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// postForm posts form to the provider with the client's credentials (client_secret_basic); it answers the status
// and the JSON body.
func postForm(t *testing.T, srv *httptest.Server, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return res.StatusCode, out
}

// copyFolder copies the golden folder to a new temporary folder and returns it.
func copyFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(folder)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(folder, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readTokens reads the golden tokens.
func readTokens(t *testing.T) tokens {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(folder, "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tk tokens
	if err := json.Unmarshal(b, &tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

// flip changes one byte of s (in its middle): the result must be refused.
func flip(s string) string {
	i := len(s) / 2
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// query is the query of a redirect's Location.
func query(t *testing.T, res *http.Response) url.Values {
	t.Helper()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode/100 != 3 {
		t.Fatalf("want a redirect, got %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	return loc.Query()
}
