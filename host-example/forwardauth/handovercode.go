package forwardauth

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// HandoverCodePath is where the public host mints a hand-over code for the person signed in
// there and sends the browser back to the app origin's bridge with it. It is a page of the
// public host (a browser navigates to it, like StartPath), not a proxy-only endpoint: it
// releases only a code, and only to <origin>BridgePath of an origin whose rule hands over.
const HandoverCodePath = "/forward-auth/handover-code"

// handoverCode serves HandoverCodePath: for a top-level navigation, an app origin whose rule
// hands over a known kind and a well-formed state hash, it checks the host's own session (none:
// the sign-in, then back here) and the rule's groups, mints a code bound to the origin, the
// state, the user and the host session, and redirects to that origin's bridge only.
func (s *Service) handoverCode(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if !s.codes.Take(s.o.Pages.ClientKey(r)) {
		w.Header().Set("Retry-After", "60")
		s.o.Pages.Message(w, r, http.StatusTooManyRequests, "Too many sign-ins",
			"This address asked to sign in to apps too often. Wait a minute and open the app again.")
		return
	}
	if why := notTopLevel(r, originOf(s.o.PublicURL.Scheme, s.o.PublicURL.Host)); why != "" {
		s.o.Logger.Info("handover code refused", "reason", why)
		s.o.Pages.Message(w, r, http.StatusForbidden, "Not here", "This address only opens as a page of its own.")
		return
	}
	q := r.URL.Query()
	origin, appHost, ok := s.parseOrigin(q.Get("origin"))
	state := q.Get("state")
	if len(state) != 43 || strings.Trim(state, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		ok = false
	}
	rs, err := s.currentRules(r.Context())
	if err != nil {
		s.o.Logger.Error("forward-auth rules", "error", err)
		dbunavailable.Answer(w)
		return
	}
	var rule *store.ForwardRule
	if ok {
		if rule = rs.handoverRule(appHost); rule != nil && NormalizeHost(rule.Host) != NormalizeHost(appHost) {
			rule = nil // the app's origin is its rule's host and port, no other port of its name
		}
	}
	if rule == nil {
		s.o.Pages.Message(w, r, http.StatusBadRequest, "Unknown app",
			"The link asked to sign in to an app that does not receive a sign-in from this site.")
		return
	}
	if _, known := s.o.Kinds.CredentialKind(rule.Handover); !known {
		s.o.Pages.Message(w, r, http.StatusServiceUnavailable, "Not available",
			"The sign-in hand-over for this app is not available right now. Try again in a minute.")
		return
	}
	next := localReturn(q.Get("rd"))
	self := HandoverCodePath + "?" + url.Values{"origin": {origin}, "state": {state}, "rd": {next}}.Encode()
	u, _, signedIn := s.o.Sessions.SignedIn(r)
	sid := s.o.Sessions.SessionID(r)
	if !signedIn || sid == "" {
		http.Redirect(w, r, s.o.Pages.LoginURL(self), http.StatusSeeOther)
		return
	}
	back := url.Values{"rd": {next}}
	if !host.AppAdmits(rule.Groups, u.Groups) {
		back.Set("error", "access_denied")
		http.Redirect(w, r, origin+BridgePath+"?"+back.Encode(), http.StatusSeeOther)
		return
	}
	code := newSecret()
	if err := s.o.Store.CreateHandoverCode(r.Context(), code, store.HandoverCode{UserID: u.ID, SessionID: sid, Origin: origin,
		StateHash: state}); err != nil {
		s.o.Logger.Error("handover: mint a code", "error", err)
		dbunavailable.Answer(w)
		return
	}
	back.Set("code", code)
	http.Redirect(w, r, origin+BridgePath+"?"+back.Encode(), http.StatusSeeOther)
}

// parseOrigin reads an app origin (scheme://host[:port], nothing else) as the bridge names
// it: http or https (https only behind an https public URL), and answers it compared form.
func (s *Service) parseOrigin(raw string) (origin, host string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#") {
		return "", "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && (scheme != "http" || s.o.PublicURL.Scheme == "https") {
		return "", "", false
	}
	return originOf(scheme, u.Host), u.Host, true
}

// handoverAppName is the name of the app of a hand-over origin ("" for none), for the sign-in page.
func (s *Service) handoverAppName(ctx context.Context, rawOrigin string) string {
	_, appHost, ok := s.parseOrigin(rawOrigin)
	if !ok {
		return ""
	}
	rs, err := s.currentRules(ctx)
	if err != nil {
		return ""
	}
	if rule := rs.handoverRule(appHost); rule != nil {
		return ruleName(rule)
	}
	return ""
}

// handedOver records a credential handed to a browser: an event on the person (kind, origin,
// client, whether it was a navigation) and the count.
func (s *Service) handedOver(r *http.Request, b bridgeReq, navigation string) {
	s.o.HandedOver(b.kind.Kind, navigation)
	u, err := s.o.Store.User(r.Context(), b.ident.userID)
	if err != nil {
		s.o.Logger.Error("handover: read the person for the event", "error", err)
		return
	}
	detail := "kind=" + b.kind.Kind + " | origin=" + b.origin() + " | client=" + s.o.Pages.ClientKey(r) + " | navigation=" + navigation
	if err := s.o.Store.AddEvent(r.Context(), store.Event{SourceID: u.SourceID, Kind: store.EventCredentialHandedOver, Subject: u.Subject,
		Name: u.Username, Detail: detail}); err != nil {
		s.o.Logger.Error("handover: record the event", "error", err)
	}
}
