package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/settings"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin's protected apps page: forward-auth rules (which host and path, who may pass).

func (s *rulePages) rulesPage(w http.ResponseWriter, r *http.Request) {
	rules, err := s.store.ForwardRules(r.Context())
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	flash, _ := s.takeFlash(w, r)
	s.render(w, http.StatusOK, "rules.html", map[string]any{"Rules": rules, "Flash": flash,
		"Base": strings.TrimRight(s.cfg.PublicURL.String(), "/"), "ProxyBase": s.proxyBase(), "ProxyListener": s.cfg.ProxyListener,
		"Session": sessionOf(r)})
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
	s.render(w, http.StatusOK, "rule.html", map[string]any{"New": true, "Rule": &store.ForwardRule{}, "Session": sessionOf(r),
		"Title": "Protect an app", "Kinds": s.sources.CredentialKinds(), "Bridge": forwardauth.BridgePath})
}

// ruleOf is the rule of the path.
func (s *rulePages) ruleOf(w http.ResponseWriter, r *http.Request) (*store.ForwardRule, bool) {
	rules, err := s.store.ForwardRules(r.Context())
	if err != nil {
		dbunavailable.Answer(w)
		return nil, false
	}
	for i := range rules {
		if rules[i].ID == r.PathValue("id") {
			return &rules[i], true
		}
	}
	http.NotFound(w, r)
	return nil, false
}

func (s *rulePages) editRulePage(w http.ResponseWriter, r *http.Request) {
	rule, ok := s.ruleOf(w, r)
	if !ok {
		return
	}
	s.render(w, http.StatusOK, "rule.html", map[string]any{"Rule": rule, "Session": sessionOf(r), "Title": rule.Host + rule.PathPrefix,
		"Kinds": s.sources.CredentialKinds(), "Bridge": forwardauth.BridgePath})
}

// saveRule creates (no id in the path) or changes a rule, or shows the form with its errors.
func (s *rulePages) saveRule(w http.ResponseWriter, r *http.Request) {
	rule := &store.ForwardRule{}
	isNew := r.PathValue("id") == ""
	if !isNew {
		var ok bool
		if rule, ok = s.ruleOf(w, r); !ok {
			return
		}
	}
	rule.Name, rule.Host, rule.PathPrefix = r.FormValue("name"), r.FormValue("host"), r.FormValue("path_prefix")
	rule.Groups, rule.Bypass = settings.Lines(r.FormValue("groups")), settings.Lines(r.FormValue("bypass"))
	rule.BypassOptions = r.FormValue("bypass_options") != ""
	rule.AllowEncodedSlash = r.FormValue("allow_encoded_slash") != ""
	rule.Handover = r.FormValue("handover")
	errs := forwardauth.CheckRule(rule)
	if rule.Handover != "" {
		if _, ok := s.sources.CredentialKind(rule.Handover); !ok {
			errs = append(errs, "Sign-in hand-over: no login method offers "+rule.Handover+".")
		}
	}
	if len(errs) == 0 {
		all, err := s.store.ForwardRules(r.Context())
		if err != nil {
			dbunavailable.Answer(w)
			return
		}
		errs = forwardauth.CheckHandover(rule, all, s.cfg.PublicURL.Host)
	}
	if len(errs) == 0 {
		id, err := s.store.PutForwardRule(r.Context(), *rule)
		switch {
		case errors.Is(err, store.ErrDuplicateRule):
			errs = append(errs, "Host and path: another rule already protects "+rule.Host+rule.PathPrefix+"; edit that one.")
		case err != nil:
			dbunavailable.Answer(w)
			return
		default:
			_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminForwardRuleSaved, Detail: "rule " + id + " " + rule.Host + rule.PathPrefix})
			s.redirectFlash(w, r, "/admin/forward-auth", "Saved "+rule.Host+rule.PathPrefix+".", "info")
			return
		}
	}
	s.render(w, http.StatusUnprocessableEntity, "rule.html", map[string]any{"New": isNew, "Rule": rule, "Errors": errs,
		"Session": sessionOf(r), "Title": "Protected app", "Kinds": s.sources.CredentialKinds(), "Bridge": forwardauth.BridgePath})
}

func (s *rulePages) deleteRule(w http.ResponseWriter, r *http.Request) {
	rule, ok := s.ruleOf(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteForwardRule(r.Context(), rule.ID); err != nil {
		dbunavailable.Answer(w)
		return
	}
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminForwardRuleDeleted, Detail: "rule " + rule.ID + " " + rule.Host + rule.PathPrefix})
	s.redirectFlash(w, r, "/admin/forward-auth", "Deleted "+rule.Host+rule.PathPrefix+".", "info")
}
