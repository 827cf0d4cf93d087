package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin's way in: the first-start setup link, the admin login and the admin home.

// Admin password guessing: failures only count, per client and, from browsers not known
// from an earlier admin login (admindevice.go), across all clients.
const (
	adminFailuresPerMinute    = 1
	adminFailuresBurst        = 5
	adminFailuresAllPerMinute = 6
	adminFailuresAllBurst     = 20
)

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, true)
	tok := r.URL.Query().Get("token")
	if !host.SetupTokenValid(r.Context(), s.store, tok) {
		s.message(w, r, http.StatusForbidden, "Setup link not valid",
			"This setup link is not valid: it expired, was already used, or an admin password is set. Restart the server for a new link, or set HOST_ADMIN_PASSWORD.", "")
		return
	}
	s.render(w, http.StatusOK, "setup.html", map[string]any{"Token": tok, "Session": sess})
}

func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		http.Error(w, "bad CSRF token", http.StatusForbidden)
		return
	}
	if !host.SetupTokenValid(r.Context(), s.store, r.FormValue("token")) {
		s.message(w, r, http.StatusForbidden, "Setup link not valid", "This setup link is not valid: it expired, was already used, or an admin password is set.", "")
		return
	}
	pw := r.FormValue("password")
	if len(pw) < host.MinAdminPassword {
		s.render(w, http.StatusBadRequest, "setup.html", map[string]any{"Token": r.FormValue("token"), "Session": sess,
			"Error": fmt.Sprintf("Choose a password of at least %d characters.", host.MinAdminPassword)})
		return
	}
	if err := host.SetAdminPassword(r.Context(), s.store, pw); err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminPasswordSet, Reason: "setup_link"})
	if _, _, err := s.newSession(w, r, 0, true, s.cfg.SessionLifetime); err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	s.rememberAdminDevice(w, r, "")
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (s *Server) adminLoginPage(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, true)
	data := map[string]any{"Session": sess}
	if r.URL.Query().Get("signed_out") != "" {
		data["Info"] = "You are signed out of the admin."
	}
	s.render(w, http.StatusOK, "adminlogin.html", data)
}

// adminLogin checks the admin password. Only failures count: per client, and across all
// clients (a global backoff against guessing from many addresses) unless the browser is a
// known admin device, whose failures count per device instead.
func (s *Server) adminLogin(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		s.sessionEnded(w, r) // an old login page: ask again, keeping what it carried
		return
	}
	client, device := s.clientKey(r), s.knownDevice(r)
	if !s.adminFails.Has(client) || (device == "" && !s.adminFailsAll.Has("all")) {
		s.adminLockedOut(w, r)
		return
	}
	if !host.CheckAdminPassword(r.Context(), s.store, r.FormValue("password")) {
		s.adminFails.Take(client)
		if device == "" {
			s.adminFailsAll.Take("all")
		} else {
			s.adminDeviceFailed(w, r, device)
		}
		_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminLoginFailed, Detail: "client " + s.clientIP(r)})
		s.render(w, http.StatusUnauthorized, "adminlogin.html", map[string]any{"Session": sess, "Error": "Wrong password.",
			"Resume": resumeTarget(r.FormValue("resume")), "Fields": keptFields(r)})
		return
	}
	newSess, r, err := s.newSession(w, r, 0, true, s.cfg.SessionLifetime)
	if err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	s.rememberAdminDevice(w, r, device)
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminLogin, Detail: "client " + s.clientIP(r)})
	if target := resumeTarget(r.FormValue("resume")); target != "" {
		s.render(w, http.StatusOK, "resume.html", map[string]any{"Session": newSess, "Action": target, "Fields": keptFields(r),
			"Title": "Send your changes again?"})
		return
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

type pluginRow struct {
	*host.Plugin
	Healthy  bool
	Restarts int
}

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) {
	var rows []pluginRow
	for _, id := range s.plugins.IDs() {
		p := s.plugins.Get(id)
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		rows = append(rows, pluginRow{Plugin: p, Healthy: p.P.Ping(ctx) == nil, Restarts: p.P.Restarts()})
		cancel()
	}
	srcs, err := s.store.Sources(r.Context())
	if err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	s.render(w, http.StatusOK, "admin.html", map[string]any{"Plugins": rows, "Sources": srcs, "Session": sessionOf(r)})
}
