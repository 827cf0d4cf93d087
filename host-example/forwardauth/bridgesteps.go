package forwardauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// The bridge's steps, as an OAuth client's are: it keeps a random state in a cookie of the
// app's own origin (host-only: "__Host-" behind https, so no sibling app sets it), sends the
// browser to the public host's HandoverCodePath, which mints a code for the person signed in
// there and sends the browser back with it, and redeems code and state server-side. The
// credential is written only when the code's user is also the user of the forward-auth
// session the browser carries: a parent-domain cookie alone unlocks nothing.

// stateLife is how long the bridge's state lives: long enough for a sign-in on the way.
const stateLife = 10 * time.Minute

// bridgeReq is one bridge request: the app's origin, its rule and kind, the forward-auth
// identity the browser carries (nil: none) and the local path to go on to.
type bridgeReq struct {
	t     target
	rule  *store.ForwardRule
	kind  source.CredentialKind
	ident *identity
	next  string
}

// origin is the app's origin (scheme://host[:port], the default port left out).
func (b bridgeReq) origin() string { return originOf(b.t.scheme, b.t.host) }

// originOf is the origin of scheme and host as the bridge and the public host compare them.
func originOf(scheme, host string) string {
	return strings.ToLower(scheme) + "://" + NormalizeHost(host)
}

// back is the bridge's own address on the app's origin with query (rd added).
func (b bridgeReq) back(q url.Values) string {
	q.Set("rd", b.next)
	return b.t.scheme + "://" + b.t.host + BridgePath + "?" + q.Encode()
}

// notTopLevel says why r is not a top-level navigation of one of origins ("" when it may be
// one): fetch metadata saying it is a fetch, a frame or a subresource, or an Origin header
// naming another origin (sibling apps under the cookie domain are same-site, so only the
// exact origin counts). A browser that sends no fetch metadata passes: the code and the state
// then carry the hand-over alone.
func notTopLevel(r *http.Request, origins ...string) string {
	if m := r.Header.Values("Sec-Fetch-Mode"); len(m) > 1 || (len(m) == 1 && m[0] != "navigate") {
		return "Sec-Fetch-Mode is not navigate"
	}
	if d := r.Header.Values("Sec-Fetch-Dest"); len(d) > 1 || (len(d) == 1 && d[0] != "document") {
		return "Sec-Fetch-Dest is not document"
	}
	o := r.Header.Values("Origin")
	if len(o) == 0 {
		return ""
	}
	if len(o) == 1 {
		if u, err := url.Parse(o[0]); err == nil && u.Host != "" && u.Path == "" && u.User == nil {
			for _, want := range origins {
				if originOf(u.Scheme, u.Host) == want {
					return ""
				}
			}
		}
	}
	return "Origin " + strings.Join(o, ", ") + " is not " + strings.Join(origins, " or ")
}

// navigationOf is what the hand-over event records of r: "yes" with fetch metadata saying
// navigate, "unknown" from a browser that sends none.
func navigationOf(r *http.Request) string {
	if r.Header.Get("Sec-Fetch-Mode") == "navigate" {
		return "yes"
	}
	return "unknown"
}

// stateCookieName is the bridge's state cookie on t's origin.
func stateCookieName(t target) string {
	if t.scheme == "https" {
		return "__Host-hx_handover_state"
	}
	return "hx_handover_state"
}

// readState is the request's state cookie ("" when none or malformed); ambiguous when the
// browser sent more than one (a sibling app can add one for the parent domain over http).
func readState(r *http.Request, t target) (state string, ambiguous bool) {
	n := 0
	for _, c := range r.Cookies() {
		if c.Name == stateCookieName(t) {
			n++
			state = c.Value
		}
	}
	if n > 1 {
		return "", true
	}
	if b, err := base64.RawURLEncoding.DecodeString(state); err != nil || len(b) != 32 {
		return "", false
	}
	return state, false
}

// stateHash is what the public host binds a code to: the state itself never leaves the
// app's origin (as PKCE's verifier).
func stateHash(state string) string {
	h := sha256.Sum256([]byte(state))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// newSecret is 32 random bytes, base64url (a state or a code).
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// bridgeBegin is the first step: a browser not yet through the forward-auth sign-in goes
// there first; one already given (or signed out of) the current credential goes on, unless it
// asks again; otherwise the state cookie is set (its value kept when there is one: two tabs
// share it)
// and the browser goes to the public host for a code.
func (s *Service) bridgeBegin(w http.ResponseWriter, r *http.Request, b bridgeReq) {
	if b.ident == nil {
		http.Redirect(w, r, s.startURL(b.back(url.Values{})), http.StatusFound)
		return
	}
	if r.URL.Query().Get("again") == "" && !s.needsHandover(r, b.ident.userID, b.kind.Kind) {
		http.Redirect(w, r, b.next, http.StatusFound)
		return
	}
	state, ambiguous := readState(r, b.t)
	if ambiguous {
		s.bridgeRefuse(w, r, b, "your browser sends the hand-over's cookie more than once", "two state cookies")
		return
	}
	if state == "" {
		state = newSecret()
	}
	// Set again when kept: its life starts anew, for a sign-in on the way.
	http.SetCookie(w, &http.Cookie{Name: stateCookieName(b.t), Value: state, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: b.t.scheme == "https", MaxAge: int(stateLife / time.Second)})
	u := *s.o.PublicURL
	u.Path = strings.TrimRight(u.Path, "/") + HandoverCodePath
	u.RawQuery = url.Values{"origin": {b.origin()}, "state": {stateHash(state)}, "rd": {b.next}}.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// needsHandover reports whether the browser was neither given user's current credential of
// kind nor signed out of it (the hx_handover mark).
func (s *Service) needsHandover(r *http.Request, userID int64, kind string) bool {
	stamp, err := s.o.Store.CredentialStamp(r.Context(), userID, kind)
	if err != nil || stamp == "" {
		return false
	}
	c, err := r.Cookie(handoverCookie)
	return err != nil || (c.Value != s.mark(stamp, false) && c.Value != s.mark(stamp, true))
}

// bridgeRedeem is the second step: the code (taken, already spent by this presentation:
// takeCodes) must be for this origin and the state cookie; its user must be the forward-auth
// session's, else the browser signs in to forward-auth again (the browser app and forward-auth
// never name different people).
func (s *Service) bridgeRedeem(w http.ResponseWriter, r *http.Request, b bridgeReq, c *store.HandoverCode, takeErr error) {
	state, ambiguous := readState(r, b.t)
	if state == "" || ambiguous {
		s.bridgeRefuse(w, r, b, "this browser did not begin this sign-in here", "no single state cookie")
		return
	}
	if takeErr == nil {
		takeErr = c.Matches(b.origin(), stateHash(state))
	}
	if takeErr != nil {
		s.bridgeRefuse(w, r, b, "the sign-in link was used already, came too late or was not this browser's", takeErr.Error())
		return
	}
	if b.ident == nil || b.ident.userID != c.UserID {
		http.Redirect(w, r, s.startURL(b.back(url.Values{})), http.StatusFound)
		return
	}
	if !host.AppAdmits(b.rule.Groups, b.ident.groups) {
		s.bridgeRefuse(w, r, b, "this app is only for some people", "outside the rule's groups")
		return
	}
	cred, err := s.o.Store.UserCredential(r.Context(), b.ident.userID, b.kind.Kind)
	if errors.Is(err, store.ErrNotFound) {
		s.bridgePage(w, http.StatusOK, bridgeData{Title: "Sign in to " + b.kind.App + " yourself",
			Text: "Your sign-in here did not bring a " + b.kind.App + " sign-in with it (the login method does not hand it over, " +
				"or you signed in before it did). Sign out and in again, or sign in to " + b.kind.App + " on its own page.", Next: b.next, App: b.kind.App})
		return
	}
	if err != nil {
		s.o.Logger.Error("handover: read the credential", "error", err)
		dbunavailable.Answer(w)
		return
	}
	s.handedOver(r, b, navigationOf(r))
	http.SetCookie(w, s.markCookie(b.t, s.mark(cred.Stamp, false)))
	s.bridgePage(w, http.StatusOK, bridgeData{Title: "Signing you in to " + b.kind.App, Text: "One moment…", Next: b.next, App: b.kind.App,
		Key: b.kind.StorageKey, Value: cred.Value, Write: true})
}

// bridgeRefuse answers a refused bridge step: no credential; the app's storage cleared and
// the browser marked as signed out of the current one, so forward-auth stops detouring it and
// the app opens signed out, never in a loop. The person may ask again.
func (s *Service) bridgeRefuse(w http.ResponseWriter, r *http.Request, b bridgeReq, text, why string) {
	s.o.Logger.Info("handover refused", "origin", b.origin(), "reason", why)
	c := s.markCookie(b.t, "")
	if b.ident != nil {
		if stamp, err := s.o.Store.CredentialStamp(r.Context(), b.ident.userID, b.kind.Kind); err == nil && stamp != "" {
			c = s.markCookie(b.t, s.mark(stamp, true))
		}
	}
	http.SetCookie(w, c)
	s.bridgePage(w, http.StatusForbidden, bridgeData{Title: "Not signed in to " + b.kind.App,
		Text: b.kind.App + " opens signed out: " + text + ".", Next: b.next, App: b.kind.App, Key: b.kind.StorageKey, Clear: true,
		Again: b.back(url.Values{"again": {"1"}})})
}
