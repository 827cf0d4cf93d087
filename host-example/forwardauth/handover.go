package forwardauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/localpath"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Handing a credential over to a browser app: on an app whose rule names a credential kind
// (store.ForwardRule.Handover), the proxy serves BridgePath on the app's own origin from this
// service; the bridge writes the signed-in user's credential where the app reads it
// (localStorage, per origin) and sends the browser on, but only on a code the public host
// minted for the person signed in there (bridgesteps.go, handovercode.go): the forward-auth
// cookie reaches every app under the cookie domain, so alone it unlocks nothing. Forward-auth
// sends a browser that has not been through the bridge since its credential changed there first.

// Bridge endpoints, per proxy flavour, and where the proxy serves them on the app's origin.
const (
	// HandoverNginxPath is the bridge behind nginx (X-Original-URL and X-Original-Host).
	HandoverNginxPath = "/forward-auth/handover/nginx"
	// HandoverProxyPath is the bridge behind Caddy and Traefik (X-Forwarded-Proto and -Host).
	HandoverProxyPath = "/forward-auth/handover/proxy"
	// BridgePath is the documented location of the bridge on the app's origin.
	BridgePath = "/.host-example/handover"
)

// handoverCookie marks, on the app's origin, which stored credential the browser was given
// (or signed out of); host-only, so no other app sees it.
const handoverCookie = "hx_handover"

// Kinds tells the credential kinds the loaded plugins declare (*host.Sources is one).
type Kinds interface {
	CredentialKind(kind string) (source.CredentialKind, bool)
}

// handoverRule is the rule of host that hands a credential over, or nil: it must be the only
// rule of the host's name on any port (a dedicated origin, CheckHandover).
func (rs Rules) handoverRule(host string) *store.ForwardRule {
	name := hostName(NormalizeHost(host))
	var found *store.ForwardRule
	for i := range rs {
		if hostName(NormalizeHost(rs[i].Host)) != name {
			continue
		}
		if found != nil || rs[i].Handover == "" || rs[i].PathPrefix != "" {
			return nil
		}
		found = &rs[i]
	}
	return found
}

// mark is the handover cookie's value for a stored credential's stamp: given, or signed out of.
func (s *Service) mark(stamp string, out bool) string {
	label := "handover"
	if out {
		label = "handover-out"
	}
	return s.o.Store.MAC(label, stamp)[:32]
}

// needsBridge reports whether a navigation by user to an app whose rule hands over kind goes
// to the bridge first: the user has a credential the browser was not given nor signed out of,
// or it asks for the origin's bare "/" (the bridge goes on to the kind's start page).
func (s *Service) needsBridge(r *http.Request, t target, userID int64, kind string) bool {
	if t.method != http.MethodGet || !navigation(r) {
		return false
	}
	return t.uri == "/" || s.needsHandover(r, userID, kind)
}

// navigation reports whether a request loads a page in a browser tab (fetch metadata, or an
// HTML Accept from a browser that sends none); it only chooses a detour, never access.
func navigation(r *http.Request) bool {
	if m := r.Header.Get("Sec-Fetch-Mode"); m != "" {
		return m == "navigate" && r.Header.Get("Sec-Fetch-Dest") == "document"
	}
	return strings.HasPrefix(r.Header.Get("Accept"), "text/html")
}

// bridgeURL is the bridge on the app's origin, returning to uri; a uri over maxReturn is left
// out (as in startURL: the proxy's buffer for the answer's headers), so the bridge goes on to the
// app's start page.
func bridgeURL(t target) string {
	if len(t.uri) > maxReturn {
		return t.scheme + "://" + t.host + BridgePath
	}
	return t.scheme + "://" + t.host + BridgePath + "?" + url.Values{"rd": {t.uri}}.Encode()
}

// bridgeTarget is the app origin a bridge request came through, from what the proxy sets.
func bridgeTarget(nginx bool, h http.Header) (target, error) {
	if nginx {
		return nginxTarget(h)
	}
	var t target
	var err error
	if t.scheme, err = single(h, "X-Forwarded-Proto"); err != nil {
		return target{}, err
	}
	if t.host, err = single(h, "X-Forwarded-Host"); err != nil {
		return target{}, err
	}
	if t.scheme == "" || t.host == "" {
		return target{}, errors.New("no X-Forwarded-Proto or X-Forwarded-Host: the proxy sets them")
	}
	t.scheme, t.uri = strings.ToLower(t.scheme), BridgePath
	return t, t.check()
}

// localReturn is raw when it is a path on the app's origin to go on to (not the bridge), else "".
func localReturn(raw string) string {
	u, ok := localpath.Parse(raw, maxReturn)
	if !ok || strings.HasPrefix(u.Path, BridgePath) {
		return ""
	}
	return raw
}

// bridge serves BridgePath for one flavour. Its steps are told apart by the query (so the
// documented proxy locations, which pass the query on, serve them all): ?signout=1 signs the
// browser out of the app; ?code= redeems a code the public host minted (bridgeRedeem);
// ?error= is the public host's refusal; anything else begins a hand-over (bridgeBegin).
// Every step answers only a top-level navigation of the app's own origin.
func (s *Service) bridge(nginx bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		q := r.URL.Query()
		taken, takeErr := s.takeCodes(r.Context(), q["code"])
		if takeErr != nil && !errors.Is(takeErr, store.ErrNotFound) {
			s.o.Logger.Error("handover: spend the code", "error", takeErr)
			dbunavailable.Answer(w)
			return
		}
		t, err := bridgeTarget(nginx, r.Header)
		if err != nil {
			s.o.Logger.Debug("handover: unreadable proxy request", "error", err)
			s.bridgePage(w, http.StatusBadRequest, bridgeData{Title: "Not set up", Text: "This address does not pass the sign-in hand-over as the documentation says."})
			return
		}
		rs, err := s.currentRules(r.Context())
		if err != nil {
			dbunavailable.Answer(w)
			return
		}
		rule := rs.handoverRule(t.host)
		if rule == nil {
			s.bridgePage(w, http.StatusForbidden, bridgeData{Title: "No sign-in here",
				Text: "This app is not set up to receive a sign-in from " + s.o.PublicURL.Host + "."})
			return
		}
		kind, known := s.o.Kinds.CredentialKind(rule.Handover)
		if !known {
			s.bridgePage(w, http.StatusServiceUnavailable, bridgeData{Title: "Not available", Text: "The sign-in hand-over for this app is not available right now. Try again in a minute."})
			return
		}
		token, ambiguous := s.token(r)
		if ambiguous {
			s.bridgePage(w, http.StatusForbidden, bridgeData{Title: "No sign-in here", Text: "Your browser sends this site's sign-in cookie more than once. Clear its cookies and sign in again."})
			return
		}
		var ident *identity
		if token != "" {
			if ident, err = s.cache.lookup(r.Context(), token); err != nil {
				dbunavailable.Answer(w)
				return
			}
		}
		b := bridgeReq{t: t, rule: rule, kind: kind, ident: ident, next: localReturn(r.URL.Query().Get("rd"))}
		if b.next == "" || b.next == "/" {
			b.next = kind.StartPath
		}
		if why := notTopLevel(r, b.origin()); why != "" {
			s.bridgeRefuse(w, r, b, "this address only opens as a page of "+b.t.host, why)
			return
		}
		switch {
		case q.Get("signout") != "":
			s.bridgeSignOut(w, r, t, kind, ident)
		case q.Has("code"):
			s.bridgeRedeem(w, r, b, taken, takeErr)
		case q.Has("error"):
			s.bridgeRefuse(w, r, b, "the sign-in did not let this browser receive it", "the public host refused: "+q.Get("error"))
		default:
			s.bridgeBegin(w, r, b)
		}
	}
}

// maxCodes is how many codes one bridge request spends (the public host sends one).
const maxCodes = 4

// takeCodes spends the codes a bridge request carries before anything else is checked, so a
// code refused for any reason (no state cookie, fetch metadata, Origin, another app's bridge
// location…) unlocks nothing afterwards. It answers the binding of the only code, or
// store.ErrCodeRefused (none given counts as refused: the caller asks only with ?code=).
func (s *Service) takeCodes(ctx context.Context, codes []string) (*store.HandoverCode, error) {
	var taken *store.HandoverCode
	var err error
	for i, code := range codes {
		if i == maxCodes {
			break
		}
		if code == "" {
			continue
		}
		c, e := s.o.Store.TakeHandoverCode(ctx, code)
		if e != nil && !errors.Is(e, store.ErrNotFound) {
			return nil, fmt.Errorf("spend a hand-over code: %w", e)
		}
		taken, err = c, e
	}
	if len(codes) != 1 || taken == nil {
		if err == nil {
			err = fmt.Errorf("%w (none, or more than one)", store.ErrCodeRefused)
		}
		return nil, err
	}
	return taken, nil
}

// bridgeSignOut removes the credential from the app's localStorage and marks the browser
// signed out of the stored one, so forward-auth does not hand it over again.
func (s *Service) bridgeSignOut(w http.ResponseWriter, r *http.Request, t target, kind source.CredentialKind, ident *identity) {
	c := s.markCookie(t, "")
	if ident != nil {
		if stamp, err := s.o.Store.CredentialStamp(r.Context(), ident.userID, kind.Kind); err == nil && stamp != "" {
			c = s.markCookie(t, s.mark(stamp, true))
		}
	}
	http.SetCookie(w, c)
	s.bridgePage(w, http.StatusOK, bridgeData{Title: "Signed out of " + kind.App, Text: "This browser is signed out of " + kind.App + " here.",
		Next: kind.StartPath, App: kind.App, Key: kind.StorageKey, Clear: true, Home: s.o.PublicURL.String()})
}

// markCookie is the handover cookie on the app's origin (host-only); "" clears it.
func (s *Service) markCookie(t target, value string) *http.Cookie {
	c := &http.Cookie{Name: handoverCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: t.scheme == "https"}
	if value == "" {
		c.MaxAge = -1
	}
	return c
}

// bridgeData is what a bridge page says and does.
type bridgeData struct {
	Title, Text, Next, App, Home string
	Key, Value                   string
	Write, Clear                 bool
	Nonce                        string
	// Again is the bridge's address that asks for the hand-over again ("": none).
	Again string
}

// bridgePage renders a bridge page under a CSP that runs only its own script (by nonce).
func (s *Service) bridgePage(w http.ResponseWriter, status int, d bridgeData) {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	d.Nonce = base64.RawURLEncoding.EncodeToString(b)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+d.Nonce+"'; style-src 'nonce-"+d.Nonce+
		"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = bridgeTmpl.Execute(w, d)
}

var bridgeTmpl = template.Must(template.New("bridge").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer"><title>{{.Title}}</title>
<style nonce="{{.Nonce}}">body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}main{max-width:28rem;margin:4rem auto;background:#fff;
padding:2rem;border-radius:12px;box-shadow:0 2px 12px #0002}a{color:#1f5fbf}</style></head><body><main id="bridge">
<h1>{{.Title}}</h1><p id="bridge-text">{{.Text}}</p>
{{if .Next}}<p><a id="bridge-next" href="{{.Next}}">Continue to {{.App}}</a>{{if .Again}} · <a id="bridge-again" href="{{.Again}}">Try the sign-in again</a>{{end}}{{if .Home}} · <a href="{{.Home}}">Back to sign-in</a>{{end}}</p>{{end}}
{{if .Write}}<noscript><p>Your browser runs no JavaScript here, so {{.App}} cannot be signed in for you.</p></noscript>
<script nonce="{{.Nonce}}">try{localStorage.setItem({{.Key}},{{.Value}});location.replace({{.Next}});}catch(e){document.getElementById("bridge-text").textContent="This browser does not let the sign-in be stored (private mode?).";}</script>
{{else if .Clear}}<script nonce="{{.Nonce}}">try{localStorage.removeItem({{.Key}});}catch(e){}</script>{{end}}
</main></body></html>`))

// SignOutLinks are the bridges' sign-out pages, one per app that receives a credential
// (for the host's signed-out page: the host cannot clear another origin's storage itself).
func (s *Service) SignOutLinks(ctx context.Context) []Link {
	rs, err := s.currentRules(ctx)
	if err != nil {
		return nil
	}
	var out []Link
	for _, r := range rs {
		if r.Handover == "" || rs.handoverRule(r.Host) == nil {
			continue
		}
		kind, ok := s.o.Kinds.CredentialKind(r.Handover)
		if !ok {
			continue
		}
		out = append(out, Link{Label: "Sign out of " + kind.App + " too (" + r.Host + ")",
			URL: s.o.PublicURL.Scheme + "://" + r.Host + BridgePath + "?signout=1"})
	}
	return out
}

// Link is a labelled address.
type Link struct {
	Label, URL string
}
