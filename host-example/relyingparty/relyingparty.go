// Package relyingparty is the demo's application that logs in through host-example with
// OpenID Connect (coreos/go-oidc v3 + golang.org/x/oauth2): code flow with PKCE, state and
// nonce, the id_token verified against the provider's JWKS, and RP-initiated logout.
package relyingparty

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config configures the app.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// PublicURL is the app's own address; the redirect URI is PublicURL + "/callback".
	PublicURL string
}

// App is the relying party.
type App struct {
	cfg      Config
	provider *gooidc.Provider
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	key      []byte

	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	claims  map[string]any
	idToken string
	expires time.Time
}

// New discovers the provider (retrying until ctx ends, as the demo starts both at once).
func New(ctx context.Context, cfg Config) (*App, error) {
	var p *gooidc.Provider
	var err error
	for {
		if p, err = gooidc.NewProvider(ctx, cfg.Issuer); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(300 * time.Millisecond):
		}
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	base := strings.TrimRight(cfg.PublicURL, "/")
	return &App{cfg: cfg, provider: p, key: key, sessions: map[string]*session{},
		verifier: p.Verifier(&gooidc.Config{ClientID: cfg.ClientID}),
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(), RedirectURL: base + "/callback",
			Scopes: []string{gooidc.ScopeOpenID, "profile", "email", "groups"}}}, nil
}

// Handler serves the app.
func (a *App) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", a.home)
	m.HandleFunc("GET /login", a.login)
	m.HandleFunc("GET /callback", a.callback)
	m.HandleFunc("GET /logout", a.logout)
	return m
}

// Cookie names differ from the provider's: in the demo both run on 127.0.0.1.
const (
	flowCookie    = "rp_flow"
	sessionCookie = "rp_session"
)

// flow is what the app keeps, signed, in a cookie between /login and /callback.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
}

func (a *App) sign(b []byte) string {
	m := hmac.New(sha256.New, a.key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (a *App) unsign(s string) ([]byte, error) {
	data, mac, ok := strings.Cut(s, ".")
	b, err1 := base64.RawURLEncoding.DecodeString(data)
	sig, err2 := base64.RawURLEncoding.DecodeString(mac)
	m := hmac.New(sha256.New, a.key)
	m.Write(b)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return nil, errors.New("flow cookie not valid")
	}
	return b, nil
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	f := flow{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
	b, _ := json.Marshal(f)
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: a.sign(b), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, a.oauth.AuthCodeURL(f.State, gooidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(flowCookie)
	if err != nil {
		a.page(w, http.StatusBadRequest, "No login in progress in this browser.", nil)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: "/", MaxAge: -1})
	b, err := a.unsign(c.Value)
	var f flow
	if err != nil || json.Unmarshal(b, &f) != nil || r.URL.Query().Get("state") != f.State {
		a.page(w, http.StatusBadRequest, "The login's state does not match.", nil)
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		a.page(w, http.StatusForbidden, "The identity provider said: "+e+" "+r.URL.Query().Get("error_description"), nil)
		return
	}
	tok, err := a.oauth.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		a.page(w, http.StatusBadGateway, "The code exchange failed: "+err.Error(), nil)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(r.Context(), raw)
	if err != nil || idt.Nonce != f.Nonce {
		a.page(w, http.StatusBadGateway, "The id_token did not verify.", nil)
		return
	}
	claims := map[string]any{}
	_ = idt.Claims(&claims)
	id := random()
	a.mu.Lock()
	a.sessions[id] = &session{claims: claims, idToken: raw, expires: time.Now().Add(time.Hour)}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *App) current(r *http.Request) (string, *session) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[c.Value]
	if s == nil || time.Now().After(s.expires) {
		return "", nil
	}
	return c.Value, s
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	_, s := a.current(r)
	if s == nil {
		a.page(w, http.StatusOK, "", nil)
		return
	}
	a.page(w, http.StatusOK, "", s.claims)
}

// logout ends the app's session and the provider's (RP-initiated logout with the id_token).
func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	id, s := a.current(r)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	var end struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if s == nil || a.provider.Claims(&end) != nil || end.EndSession == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a.mu.Lock()
	delete(a.sessions, id)
	a.mu.Unlock()
	q := url.Values{"id_token_hint": {s.idToken}, "post_logout_redirect_uri": {strings.TrimRight(a.cfg.PublicURL, "/") + "/"}}
	http.Redirect(w, r, end.EndSession+"?"+q.Encode(), http.StatusFound)
}

var pageTmpl = template.Must(template.New("p").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Demo app</title>
<style>body{font-family:system-ui,sans-serif;background:#f4f6fb;display:flex;justify-content:center;padding:3em 1em}
main{background:#fff;border:1px solid #ddd;border-radius:8px;padding:1.5em 2em;max-width:36em;width:100%}
.btn{background:#2d5be3;color:#fff;padding:.7em 1.2em;border-radius:5px;text-decoration:none;display:inline-block}
td{padding:.3em .6em;border-bottom:1px solid #eee;vertical-align:top}.pill{background:#e8edfb;border-radius:1em;padding:.1em .6em;margin:.1em;display:inline-block}
.err{color:#b00020}</style></head><body><main><h1>Demo app</h1>
{{with .Error}}<p class="err" id="error">{{.}}</p>{{end}}
{{if .Claims}}<p id="hello">Signed in as <strong>{{index .Claims "preferred_username"}}</strong>. The id_token was verified against the provider's keys; its claims:</p>
<table id="claims">{{range .Rows}}<tr><td>{{.Key}}</td><td>{{.Value}}</td></tr>{{end}}</table>
<p id="groups">Groups: {{range .Groups}}<span class="pill">{{.}}</span>{{else}}none{{end}}</p>
<p><a class="btn" href="/logout" id="logout">Log out</a></p>
{{else}}<p>This application lets you in through host-example (OpenID Connect).</p>
<p><a class="btn" href="/login" id="login">Log in with host-example</a></p>{{end}}
</main></body></html>`))

// row is one claim of the page's table, its value as shown.
type row struct{ Key, Value string }

// timeClaims are the claims that hold a time as seconds since 1970 (OpenID Connect Core, 2).
var timeClaims = map[string]bool{"auth_time": true, "iat": true, "exp": true, "nbf": true, "updated_at": true}

// claimText is a claim's value as the page shows it: a time claim as a UTC date and time
// followed by the raw number, anything else as it decoded.
func claimText(key string, v any) string {
	if n, ok := v.(float64); ok {
		raw := strconv.FormatFloat(n, 'f', -1, 64)
		if timeClaims[key] {
			return time.Unix(int64(n), 0).UTC().Format("2006-01-02 15:04:05 UTC") + " (" + raw + ")"
		}
		return raw
	}
	return fmt.Sprint(v)
}

func (a *App) page(w http.ResponseWriter, status int, errText string, claims map[string]any) {
	var rows []row
	for k, v := range claims {
		rows = append(rows, row{k, claimText(k, v)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key < rows[j].Key })
	var groups []string
	if g, ok := claims["groups"].([]any); ok {
		for _, x := range g {
			if s, ok := x.(string); ok {
				groups = append(groups, s)
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, map[string]any{"Error": errText, "Claims": claims, "Rows": rows, "Groups": groups})
}
