package openid

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/ratelimit"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Limits of the authorization endpoint, which anyone can call without a session.
const (
	// authorizeRate is authorization requests per minute per signed-in user, or per client
	// address without a session, with a burst of authorizeBurst: a person opening a few apps
	// (or an app renewing silently with prompt=none) never meets it.
	authorizeRate  = 30
	authorizeBurst = 20
	// DefaultMaxOpenAuthRequests bounds the authorization requests nobody completed yet
	// (each row is at most a few KiB): past it the busiest clients lose their oldest, and a
	// new one is never refused, so a flood cannot close sign-in for everyone.
	DefaultMaxOpenAuthRequests = 20000
	// bindingsKept is how many authorization requests of one browser (tabs) stay open at once.
	bindingsKept = 8
	// openPerClient is how many authorization requests one client (a signed-in user, or an
	// address) keeps open; a new one drops its oldest.
	openPerClient = 10
)

// paramLimits caps each authorization parameter (bytes); longer values are refused, so a
// stored request stays small. Parameters not listed are capped by maxOtherParam.
var paramLimits = map[string]int{
	"client_id": 128, "redirect_uri": 2048, "state": 2048, "nonce": 512, "scope": 1024, "response_type": 64,
	"response_mode": 32, "prompt": 64, "max_age": 16, "code_challenge": 128, "code_challenge_method": 16,
	"login_hint": 256, "ui_locales": 128, "acr_values": 256, "id_token_hint": 8192, "display": 32,
}

const (
	maxOtherParam = 256
	maxParams     = 32
)

// bindingKey carries what CreateAuthRequest stores of the browser that started a request.
type bindingKey struct{}

// starter is the starting browser: the hash of its binding value, and who it is (a hash of
// the signed-in user or the client address).
type starter struct{ binding, client string }

func starterOf(ctx context.Context) starter {
	s, _ := ctx.Value(bindingKey{}).(starter)
	return s
}

// bindingCookie is the cookie that binds authorization requests to the browser that
// started them; behind https it is "__Host-" prefixed, so a sibling app under a shared
// cookie domain cannot plant one.
func (p *Provider) bindingCookie() string {
	if p.opts.Issuer.Scheme == "https" {
		return "__Host-hx_oidc"
	}
	return "hx_oidc"
}

// bindingValues are the values of the request's binding cookie; ok is false when the
// browser sent the cookie more than once (a planted copy beside ours: ambiguous, refused).
func (p *Provider) bindingValues(r *http.Request) (vals []string, ok bool) {
	var found []*http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == p.bindingCookie() {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return nil, true
	case 1:
		for _, v := range strings.Split(found[0].Value, ".") {
			if len(v) == 32 {
				vals = append(vals, v)
			}
		}
		return vals, true
	}
	return nil, false
}

// boundTo reports whether the request's browser holds the binding of row.
func (p *Provider) boundTo(r *http.Request, row *store.AuthRequest) bool {
	vals, ok := p.bindingValues(r)
	if !ok || row.BindingHash == "" {
		return false
	}
	for _, v := range vals {
		if subtle.ConstantTimeCompare([]byte(hashOf(v)), []byte(row.BindingHash)) == 1 {
			return true
		}
	}
	return false
}

// authorize guards the library's authorization endpoint: only navigations and frames,
// parameters capped, callers rate-limited per signed-in user or per address, and the request
// bound to this browser (a fresh value in its binding cookie, whose hash CreateAuthRequest
// stores); afterwards the open requests are bounded (BoundOpenAuthRequests).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.opts.Pages.Message(w, r, http.StatusBadRequest, "Sign-in request refused", "The sign-in request could not be read.")
		return
	}
	if dest := r.Header.Get("Sec-Fetch-Dest"); dest != "" && dest != "document" && dest != "iframe" {
		// An authorization request is a navigation (or a hidden frame for prompt=none); an
		// image or a script of another page that starts them would push this browser's own
		// sign-ins out of its binding cookie and use up its limit.
		p.opts.Pages.Message(w, r, http.StatusBadRequest, "Sign-in request refused",
			"A sign-in must be opened as a page, not loaded by another page.")
		return
	}
	if msg := checkParams(r); msg != "" {
		p.opts.Pages.Message(w, r, http.StatusBadRequest, "Sign-in request refused", msg+" Go back to the application and try again.")
		return
	}
	key := "address " + p.opts.Pages.ClientKey(r)
	if u, _, signedIn := p.opts.Sessions.SignedIn(r); signedIn {
		key = "user " + strconv.FormatInt(u.ID, 10)
	}
	if !p.authorizeLimit.Take(key) {
		w.Header().Set("Retry-After", "60")
		p.opts.Pages.Message(w, r, http.StatusTooManyRequests, "Too many sign-in requests",
			"Too many sign-ins were started from here in a short time. Wait a minute, then try again.")
		return
	}
	vals, ok := p.bindingValues(r)
	if !ok {
		vals = nil // a planted copy: start over with ours alone
	}
	fresh := store.RandomID(16)
	vals = append([]string{fresh}, vals...)
	if len(vals) > bindingsKept {
		vals = vals[:bindingsKept]
	}
	http.SetCookie(w, &http.Cookie{Name: p.bindingCookie(), Value: strings.Join(vals, "."), Path: "/", HttpOnly: true,
		Secure: p.opts.Issuer.Scheme == "https", SameSite: http.SameSiteLaxMode, MaxAge: int(authRequestLifetime / time.Second)})
	who := starter{binding: hashOf(fresh), client: hashOf(key)[:32]}
	p.op.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bindingKey{}, who)))
	if n, err := p.opts.Store.BoundOpenAuthRequests(r.Context(), who.client, openPerClient, p.opts.MaxOpenAuthRequests); err != nil {
		p.opts.Logger.Error("bound authorization requests", "error", err)
	} else if n > 1 {
		p.opts.Logger.Warn("more authorization requests open than kept: the oldest of the busiest clients were dropped", "dropped", n,
			"kept", p.opts.MaxOpenAuthRequests)
	}
}

// checkParams refuses an authorization request whose parameters are too many or too long.
func checkParams(r *http.Request) string {
	if len(r.Form) > maxParams {
		return "It has too many parameters."
	}
	for k, vs := range r.Form {
		limit, known := paramLimits[k]
		if !known {
			limit = maxOtherParam
		}
		if len(k) > maxOtherParam || len(vs) > 1 {
			return "A parameter is repeated or its name is too long."
		}
		for _, v := range vs {
			if len(v) > limit {
				return "Its parameter " + k + " is too long."
			}
		}
	}
	return ""
}

// secretsInQuery are parameters that carry a credential: the token, introspection and
// revocation endpoints refuse them in the URL (they end up in proxy and server logs).
var secretsInQuery = []string{"client_secret", "code", "code_verifier", "refresh_token", "token", "client_assertion", "password", "access_token"}

// formOnly refuses a request to a credential endpoint (token, introspection, revocation,
// userinfo) that carries a credential in its query.
func (p *Provider) formOnly(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, k := range secretsInQuery {
		if q.Has(k) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"` + k +
				` must be sent in the request body or the Authorization header, never in the URL"}`))
			return
		}
	}
	p.op.ServeHTTP(w, r)
}

// oldCallback answers the library's bearer-id callback, which this host never uses: the
// code is issued in the response of the login step, to the browser that was bound.
func (p *Provider) oldCallback(w http.ResponseWriter, r *http.Request) {
	p.opts.Pages.Message(w, r, http.StatusGone, "Not here",
		"This address is not used for signing in. Go back to the application and sign in again.")
}

func newAuthorizeLimit() *ratelimit.Buckets {
	return ratelimit.New(authorizeRate, authorizeBurst, 100000)
}
