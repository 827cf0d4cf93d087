package web

import (
	"net/http"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/host"
)

// The first-run guide: after the setup link's password, the steps that make a new host
// useful (a source, turned on, a first protected app), each done by the admin pages' own
// forms and actions. The guide reads where the admin is from what exists, so it can be left
// and resumed; the forms it holds post to the admin's usual addresses, with then=setup to
// come back here.

// firstRunPath is the guide's address.
const firstRunPath = "/admin/setup"

// thenSetup is the form value that brings an admin action back to the guide.
const thenSetup = "setup"

// firstRunRoutes are the guide's pages.
func firstRunRoutes(s *adminPages) map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET " + firstRunPath:            s.handle(s.firstRunPage),
		"POST " + firstRunPath + "/done": s.handle(s.finishFirstRun),
	}
}

// firstRunPage is firstrun.html's data.
type firstRunPage struct {
	Head
	host.FirstRunProgress
	// Step is the step shown open (the first not done).
	Step int
	// Plugins are the loaded plugins a source may be added with.
	Plugins map[string]*host.Plugin
	// Proxy is the first protected app's proxy configuration (nil: no app yet).
	Proxy *forwardauth.ProxyConfig
	// Settings are what the host's start options leave to do for forward-auth.
	Settings []string
	Flash    string
	// FlashLevel is the flash notice's kind.
	FlashLevel string
}

func (s *adminPages) firstRunPage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.firstRun.Progress(r.Context())
	if err != nil {
		return err
	}
	page := &firstRunPage{Head: Head{Title: "First-run setup", Session: sessionOf(r)}, FirstRunProgress: p, Step: p.Step(),
		Plugins: s.plugins.All(), Settings: s.forwardAuthSettings()}
	if p.Rule != nil {
		c := forwardauth.ProxyConfigFor(*p.Rule, s.cfg.ProxyURL)
		page.Proxy = &c
	}
	page.Flash, page.FlashLevel = s.takeFlash(w, r)
	s.render(w, http.StatusOK, "firstrun.html", page)
	return nil
}

func (s *adminPages) finishFirstRun(w http.ResponseWriter, r *http.Request) error {
	if err := s.firstRun.Finish(r.Context()); err != nil {
		return err
	}
	s.redirectFlash(w, r, "/admin", "The first-run setup is done. It stays at the foot of this page (First-run setup).", "info")
	return nil
}

// forwardAuthSettings are the start options forward-auth needs that this host was started
// without, each with why.
func (s *adminPages) forwardAuthSettings() []string {
	var out []string
	if s.cfg.PublicURLDefault {
		out = append(out, "Set -public-url (HOST_PUBLIC_URL) to the address people reach this site at, such as https://auth.example.com: "+
			"it is where a protected app sends people to sign in and where sign-ins come back to. Now it is "+s.cfg.PublicURL.String()+
			", the address this site listens on.")
	}
	if s.cfg.CookieDomain == "" {
		out = append(out, "Set -cookie-domain (HOST_COOKIE_DOMAIN) to the parent domain of this site and your apps, such as example.com "+
			"for auth.example.com and sonarr.example.com: the sign-in a protected app checks is a cookie on that domain. Without it, "+
			"protected apps send everyone to sign in and back, and no one gets in.")
	}
	return out
}

// afterAction is where an admin action that the guide may have started goes back to: the
// guide when its form said so, else fallback.
func afterAction(r *http.Request, fallback string) string {
	if r.FormValue("then") == thenSetup {
		return firstRunPath
	}
	return fallback
}
