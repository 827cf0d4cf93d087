// Package openid is host-example's OpenID Connect provider: github.com/zitadel/oidc/v3 does
// the protocol; this package implements its storage on the host's store, the claims of the
// mapped identity, the clients, the signing keys, and the step from an authorization request
// to the host's own login and back.
package openid

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/plexlogin/plexlogin/host-example/auditlog"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/ratelimit"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Options configure the provider.
type Options struct {
	// Issuer is the host's public URL (StaticIssuer).
	Issuer *url.URL
	Store  Store
	// SigningAlg is the default signing algorithm (RS256 when empty; one of Algorithms); a
	// client registered with its own signs with that.
	SigningAlg string
	// Sessions tell who the browser is signed in as and end its sign-in (host.Sessions).
	Sessions Sessions
	// Pages show a person the provider's pages (the host's web pages).
	Pages  Pages
	Logger hclog.Logger
	// FileClients replace every client from a file (read-only in the UI).
	FileClients []*store.OIDCClient
	// Clients are the registered clients the provider reads (nil: NewClients of Store).
	Clients *Clients
	// MaxOpenAuthRequests bounds the authorization requests nobody completed yet (default
	// DefaultMaxOpenAuthRequests); past it the busiest clients lose their oldest.
	MaxOpenAuthRequests int
	// Granted, when set, is told each token request's grant type and outcome (issued,
	// refused, error).
	Granted func(grantType, outcome string)
	// Audit writes each token request's grant type, client and outcome to the log (rate-limited).
	Audit *auditlog.Log
}

// Sessions are the host's sessions as the provider asks them; *host.Sessions is one.
type Sessions interface {
	// SignedIn is the request's signed-in user and when that login happened.
	SignedIn(r *http.Request) (*store.User, time.Time, bool)
	// SessionID is the stored id of the request's signed-in session ("" when none): what a
	// grant minted for this sign-in is bound to, so that it dies with the session.
	SessionID(r *http.Request) string
	// EndUserSession ends the request's session when it is userID's.
	EndUserSession(r *http.Request, userID int64)
}

// Pages are what the provider shows a person, in the host's pages; *web.Server is one.
type Pages interface {
	// Message shows the person a page.
	Message(w http.ResponseWriter, r *http.Request, status int, title, text string)
	// Confirm shows a page with one button that POSTs (with CSRF) to action.
	Confirm(w http.ResponseWriter, r *http.Request, title, text, action, button string, fields map[string]string)
	// Offer shows a page with a few ways on, each a button that POSTs (with CSRF) to its action.
	Offer(w http.ResponseWriter, r *http.Request, status int, title, text string, ways []host.Way)
	// CheckCSRF reports whether a POST carries the session's CSRF token.
	CheckCSRF(r *http.Request) bool
	// LoginURL is the host's login page that returns to returnTo afterwards.
	LoginURL(returnTo string) string
	// ClientKey is the rate-limit key of the request's client (its address, or its IPv6 /64).
	ClientKey(r *http.Request) string
}

// Paths the provider serves; the web package routes them here.
const (
	LoginPath     = "/oidc/login"
	LogoutPath    = "/oidc/logout"
	LoggedOutPath = "/oidc/logged-out"
)

// Paths lists the URL paths (http.ServeMux patterns) the provider answers.
var Paths = []string{"/.well-known/openid-configuration", "/authorize", "/authorize/callback", "/oauth/token", "/oauth/introspect",
	"/userinfo", "/revoke", "/end_session", "/keys", LoginPath, LogoutPath, LoggedOutPath, OtherAccountPath, BackToAppPath}

// Provider is the OpenID Connect provider.
type Provider struct {
	opts    Options
	op      *op.Provider
	storage *storage
	handler http.Handler
	// authorizeLimit counts authorization requests per signed-in user or client address.
	authorizeLimit *ratelimit.Buckets
}

// New sets up the provider: the crypto key and a signing key are created on first start
// and survive restarts; file clients are synced into the store.
func New(ctx context.Context, o Options) (*Provider, error) {
	if o.SigningAlg == "" {
		o.SigningAlg = RS256
	}
	if err := CheckAlg(o.SigningAlg); err != nil {
		return nil, fmt.Errorf("-oidc-signing-alg: %w", err)
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.MaxOpenAuthRequests <= 0 {
		o.MaxOpenAuthRequests = DefaultMaxOpenAuthRequests
	}
	if o.Clients == nil {
		o.Clients = NewClients(o.Store)
	}
	o.Clients.defaultAlg = o.SigningAlg
	if err := syncFileClients(ctx, o.Store, o.FileClients); err != nil {
		return nil, err
	}
	if err := ensureKeysInUse(ctx, o.Store, o.SigningAlg); err != nil {
		return nil, err
	}
	key, err := cryptoKey(ctx, o.Store)
	if err != nil {
		return nil, err
	}
	p := &Provider{opts: o, authorizeLimit: newAuthorizeLimit()}
	p.storage = &storage{st: o.Store, clients: o.Clients.cache, keys: &keyring{st: o.Store, alg: o.SigningAlg, keepFor: keyKeep},
		login: func(id string) string { return LoginPath + "?id=" + url.QueryEscape(id) },
		endSession: func(ctx context.Context, userID int64) {
			if r := requestOf(ctx); r != nil {
				o.Sessions.EndUserSession(r, userID)
			}
		},
		logoutConfirm: func(redirect string) string { return LogoutPath + "?redirect=" + url.QueryEscape(redirect) },
	}
	cfg := &op.Config{CryptoKey: key, CodeMethodS256: true, AuthMethodPost: true, GrantTypeRefreshToken: true,
		SupportedScopes: SupportedScopes, SupportedClaims: SupportedClaims, DefaultLogoutRedirectURI: LoggedOutPath}
	issuer := strings.TrimRight(o.Issuer.String(), "/")
	corsOpts := &cors.Options{AllowOriginFunc: p.allowedOrigin, AllowCredentials: false,
		AllowedMethods: []string{http.MethodGet, http.MethodPost}, AllowedHeaders: []string{"Authorization", "Content-Type"}}
	opts := []op.Option{op.WithCORSOptions(corsOpts), op.WithHttpInterceptors(withRequest),
		// access tokens are AES-GCM (authenticated) only: the library's default also decrypts
		// unauthenticated AES-CFB, which turns some refresh tokens into a made-up access token id
		// and so made a revocation hinted "access_token" miss the refresh token it was given
		op.WithCrypto(op.NewAES256GCMCrypto(key, "")),
		// a logout's id_token_hint may be signed with any offered algorithm (the library's default omits EdDSA)
		op.WithIDTokenHintVerifierOpts(op.WithSupportedIDTokenHintSigningAlgorithms(Algorithms...))}
	if o.Issuer.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure()) // a loopback demo; a real deployment is https
	}
	p.op, err = op.NewProvider(cfg, p.storage, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", p.authorize)
	mux.HandleFunc("/authorize/callback", p.oldCallback)
	mux.Handle("GET /.well-known/openid-configuration", cors.New(*corsOpts).Handler(http.HandlerFunc(p.discovery)))
	for _, path := range []string{"/oauth/token", "/oauth/introspect", "/revoke", "/userinfo"} {
		mux.HandleFunc(path, p.formOnly)
	}
	mux.HandleFunc("GET "+LoginPath, p.login)
	mux.HandleFunc("POST "+OtherAccountPath, p.otherAccount)
	mux.HandleFunc("POST "+BackToAppPath, p.backToApp)
	mux.HandleFunc("GET "+LogoutPath, p.logoutPage)
	mux.HandleFunc("POST "+LogoutPath, p.logout)
	mux.HandleFunc("GET "+LoggedOutPath, func(w http.ResponseWriter, r *http.Request) {
		o.Pages.Message(w, r, http.StatusOK, "Signed out", "You are signed out.")
	})
	mux.Handle("/", p.op)
	p.handler = mux
	return p, nil
}

// ServeHTTP serves the provider's paths.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != TokenPath || r.Method != http.MethodPost {
		p.handler.ServeHTTP(w, r)
		return
	}
	ctx, mark := withFaultMark(withSigningSlot(r.Context()))
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	p.handler.ServeHTTP(&outageWriter{statusWriter: sw, mark: mark}, r.WithContext(ctx))
	outcome := "issued"
	switch {
	case sw.status >= 500:
		outcome = "error"
	case sw.status >= 300:
		outcome = "refused"
	}
	grant := r.PostFormValue("grant_type")
	if p.opts.Granted != nil {
		p.opts.Granted(grant, outcome)
	}
	client := r.PostFormValue("client_id")
	if id, _, ok := r.BasicAuth(); ok {
		client = id
	}
	if len(client) > 100 {
		client = client[:100]
	}
	if len(grant) > 100 {
		grant = grant[:100]
	}
	p.opts.Audit.Info("token_"+outcome, "OpenID Connect token request", "grant_type", grant, "client", client, "status", sw.status)
}

// TokenPath is the token endpoint's path.
const TokenPath = "/oauth/token"

// statusWriter remembers the status of the answer it writes.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// allowedOrigin admits a CORS origin only when it is the origin of a registered redirect URI.
func (p *Provider) allowedOrigin(origin string) bool {
	return p.storage.clients.allowsOrigin(context.Background(), origin)
}

// cryptoKey is the library's 32-byte key for opaque access tokens, kept encrypted in the store.
func cryptoKey(ctx context.Context, st Store) ([32]byte, error) {
	var key [32]byte
	b, err := st.SecretMeta(ctx, "oidc_crypto_key")
	if err != nil {
		return key, err
	}
	if len(b) != 32 { // first start: replicas starting together keep the first one's
		b = make([]byte, 32)
		_, _ = rand.Read(b)
		if b, err = st.SecretMetaOnce(ctx, "oidc_crypto_key", b); err != nil {
			return key, err
		}
		if len(b) != 32 {
			return key, fmt.Errorf("the stored token key has %d bytes, not 32", len(b))
		}
	}
	copy(key[:], b)
	return key, nil
}

// ensureKeysInUse makes a signing key for each algorithm in use that has none: the default
// and every registered client's own.
func ensureKeysInUse(ctx context.Context, st Store, def string) error {
	clients, err := st.OIDCClients(ctx)
	if err != nil {
		return err
	}
	algs := []string{def}
	for _, c := range clients {
		if c.IDTokenAlg != "" && !slices.Contains(algs, c.IDTokenAlg) {
			algs = append(algs, c.IDTokenAlg)
		}
	}
	for _, alg := range algs {
		if err := EnsureKey(ctx, st, alg); err != nil {
			return fmt.Errorf("%s signing key: %w", alg, err)
		}
	}
	return nil
}

// syncFileClients makes the store's file clients exactly the file's.
func syncFileClients(ctx context.Context, st Store, clients []*store.OIDCClient) error {
	existing, err := st.OIDCClients(ctx)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, c := range clients {
		if old := find(existing, c.ID); old != nil && old.Origin != "file" {
			return fmt.Errorf("client %s of the clients file is also registered in the admin UI: delete one", c.ID)
		}
		if err := st.PutOIDCClient(ctx, *c); err != nil {
			return err
		}
		keep[c.ID] = true
	}
	for _, c := range existing {
		if c.Origin == "file" && !keep[c.ID] {
			if err := st.DeleteOIDCClient(ctx, c.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

func find(list []*store.OIDCClient, id string) *store.OIDCClient {
	for _, c := range list {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// login is where the library sends an authorization request. Only the browser that started
// the request may go on (its binding cookie); a signed-in user who may use the client
// completes it, once, and gets the code in this same response; otherwise prompt=none answers
// login_required, and everyone else logs in and comes back here. prompt=login and max_age
// demand a login newer than allowed.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	row, err := p.opts.Store.AuthRequestByID(r.Context(), id)
	if err != nil {
		p.opts.Pages.Message(w, r, http.StatusBadRequest, "Sign-in request expired",
			"This sign-in request expired or is unknown. Go back to the application and try again.")
		return
	}
	if !p.boundTo(r, row) {
		p.opts.Pages.Message(w, r, http.StatusForbidden, "Sign-in started in another browser",
			"This sign-in request was started in another browser, so it cannot be finished here. "+
				"If you did not start it, someone may be trying to sign in to an application as you: close this page. "+
				"Otherwise go back to the application in this browser and sign in again.")
		return
	}
	if row.Done {
		p.opts.Pages.Message(w, r, http.StatusBadRequest, "Sign-in already finished",
			"This sign-in request was already used. Go back to the application and sign in again.")
		return
	}
	ar, err := p.storage.authRequestOf(r.Context(), row)
	if err != nil {
		p.opts.Pages.Message(w, r, http.StatusInternalServerError, "Something went wrong", "The sign-in request could not be read.")
		return
	}
	c, err := p.storage.clients.byID(r.Context(), ar.ClientID)
	if err != nil {
		p.opts.Pages.Message(w, r, http.StatusBadRequest, "Unknown application", "The application of this sign-in request is no longer registered.")
		return
	}
	u, authTime, ok := p.opts.Sessions.SignedIn(r)
	if ok && !fresh(ar, authTime) {
		ok = false
	}
	if !ok {
		if slices.Contains(ar.Prompt, oidc.PromptNone) {
			op.AuthRequestError(w, r, ar, oidc.ErrLoginRequired(), p.op)
			return
		}
		http.Redirect(w, r, p.opts.Pages.LoginURL(LoginPath+"?id="+url.QueryEscape(id)), http.StatusSeeOther)
		return
	}
	if !inAllowedGroups(u, c) {
		_ = p.opts.Store.AddEvent(r.Context(), store.Event{SourceID: u.SourceID, Kind: store.EventOIDCDenied, Subject: u.Subject, Name: u.Username,
			Reason: "not_in_allowed_groups", Detail: "client " + c.ID})
		p.refuse(w, r, id, c)
		return
	}
	if err := p.opts.Store.CompleteAuthRequest(r.Context(), id, u.ID, p.opts.Sessions.SessionID(r), authTime); err != nil {
		p.opts.Pages.Message(w, r, http.StatusBadRequest, "Sign-in request expired", "This sign-in request expired or was already used. Go back to the application and try again.")
		return
	}
	ar.done, ar.userID, ar.subject, ar.authTime = true, u.ID, u.PublicID, authTime.Truncate(time.Second)
	ctx := op.ContextWithIssuer(r.Context(), strings.TrimRight(p.opts.Issuer.String(), "/"))
	op.AuthResponse(ar, p.op, w, r.WithContext(ctx))
}

// fresh reports whether a login at authTime satisfies the request: prompt=login (which the
// library turns into max_age=0) and max_age accept a login made after the request began, or
// one at most max_age old. Times are whole seconds, as auth_time is.
func fresh(ar *authRequest, authTime time.Time) bool {
	afterRequest := !authTime.Before(ar.createdAt)
	if slices.Contains(ar.Prompt, oidc.PromptLogin) && !afterRequest {
		return false
	}
	if ar.MaxAge != nil && !afterRequest && time.Since(authTime) > time.Duration(*ar.MaxAge)*time.Second {
		return false
	}
	return true
}

// logoutPage asks before logging out when the application gave no valid id_token_hint.
func (p *Provider) logoutPage(w http.ResponseWriter, r *http.Request) {
	p.opts.Pages.Confirm(w, r, "Sign out?", "An application asks to sign you out of this site.", LogoutPath, "Sign out",
		map[string]string{"redirect": r.URL.Query().Get("redirect")})
}

func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	if !p.opts.Pages.CheckCSRF(r) {
		p.opts.Pages.Message(w, r, http.StatusForbidden, "Not signed out", "This request did not come from this site's page.")
		return
	}
	u, _, ok := p.opts.Sessions.SignedIn(r)
	if ok {
		p.opts.Sessions.EndUserSession(r, u.ID)
	}
	target := r.FormValue("redirect")
	// Only a target the library already validated: a client's registered post-logout URI, or ours.
	if !p.postLogoutAllowed(r.Context(), target) {
		target = LoggedOutPath
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (p *Provider) postLogoutAllowed(ctx context.Context, target string) bool {
	if target == LoggedOutPath {
		return true
	}
	u, err := url.Parse(target)
	if err != nil {
		return false
	}
	u.RawQuery = "" // the state parameter the library added
	clients, _ := p.opts.Store.OIDCClients(ctx)
	for _, c := range clients {
		if slices.Contains(c.PostLogoutURIs, u.String()) {
			return true
		}
	}
	return false
}
