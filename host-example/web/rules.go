package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// The admin's protected apps page: forward-auth rules (which host and path, who may pass;
// forwardauth.RuleAdmin decides).

// rulesPage is rules.html's data: the rules, a notice, and where proxies ask.
type rulesPage struct {
	Head
	Rules []store.ForwardRule
	Flash string
	// Base is the public URL; ProxyBase where a reverse proxy asks the proxy-only paths ("":
	// not known); ProxyListener is set when those have a listener of their own.
	Base, ProxyBase string
	ProxyListener   bool
}

// rulePage is rule.html's data: a rule's form.
type rulePage struct {
	Head
	New    bool
	Rule   *store.ForwardRule
	Errors []string
	// Kinds are the credential kinds a rule may hand over; Bridge the path of the hand-over.
	Kinds  []source.CredentialKind
	Bridge string
	// IconForm uploads the app's icon.
	IconForm iconForm
	// Proxy is the nginx and Caddy configuration that protects a saved rule's app.
	Proxy *forwardauth.ProxyConfig
}

func (s *rulePages) rulesPage(w http.ResponseWriter, r *http.Request) error {
	rules, err := s.rules.List(r.Context())
	if err != nil {
		return err
	}
	flash, _ := s.takeFlash(w, r)
	s.render(w, http.StatusOK, "rules.html", &rulesPage{Head: Head{Session: sessionOf(r)}, Rules: rules, Flash: flash,
		Base: strings.TrimRight(s.cfg.PublicURL.String(), "/"), ProxyBase: s.proxyBase(), ProxyListener: s.cfg.ProxyListener})
	return nil
}

// proxyBase is the address a reverse proxy asks the proxy-only paths on ("" when not known):
// the forward-auth listener, else host-example's own listener, never the public URL, whose
// site refuses the paths that release a credential.
func (s *rulePages) proxyBase() string {
	if s.cfg.ProxyURL == nil {
		return ""
	}
	return strings.TrimRight(s.cfg.ProxyURL.String(), "/")
}

func (s *rulePages) newRulePage(w http.ResponseWriter, r *http.Request) {
	s.renderRule(w, r, http.StatusOK, &store.ForwardRule{}, true, nil, "Protect an app")
}

func (s *rulePages) editRulePage(w http.ResponseWriter, r *http.Request) error {
	rule, err := s.rules.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.renderRule(w, r, http.StatusOK, rule, false, nil, rule.Host+rule.PathPrefix)
	return nil
}

// renderRule shows a rule's form.
func (s *rulePages) renderRule(w http.ResponseWriter, r *http.Request, status int, rule *store.ForwardRule, isNew bool, errs []string, title string) {
	var icon iconForm
	var proxy *forwardauth.ProxyConfig
	if !isNew {
		icon = iconFormOf(r.Context(), s.portal, store.RuleIcon, rule.ID)
		if errs == nil {
			c := forwardauth.ProxyConfigFor(*rule, s.cfg.ProxyURL)
			proxy = &c
		}
	}
	s.render(w, status, "rule.html", &rulePage{Head: Head{Title: title, Session: sessionOf(r)}, New: isNew, Rule: rule, Errors: errs,
		Kinds: s.sources.CredentialKinds(), Bridge: forwardauth.BridgePath, IconForm: icon, Proxy: proxy})
}

// saveRule creates (no id in the path) or changes a rule, or shows the form with its errors.
func (s *rulePages) saveRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := s.rules.Save(r.Context(), r.PathValue("id"), forwardauth.RuleInput{Name: r.FormValue("name"), Host: r.FormValue("host"),
		PathPrefix: r.FormValue("path_prefix"), Groups: r.FormValue("groups"), Bypass: r.FormValue("bypass"),
		BypassOptions: r.FormValue("bypass_options") != "", AllowEncodedSlash: r.FormValue("allow_encoded_slash") != "",
		Handover: r.FormValue("handover")})
	var invalid *forwardauth.InvalidRule
	switch {
	case errors.As(err, &invalid):
		s.renderRule(w, r, http.StatusUnprocessableEntity, invalid.Rule, r.PathValue("id") == "", invalid.Problems, "Protected app")
	case err != nil:
		return err
	default:
		s.redirectFlash(w, r, afterAction(r, "/admin/forward-auth"), "Saved "+rule.Host+rule.PathPrefix+".", "info")
	}
	return nil
}

func (s *rulePages) deleteRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := s.rules.Delete(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.redirectFlash(w, r, "/admin/forward-auth", "Deleted "+rule.Host+rule.PathPrefix+".", "info")
	return nil
}
