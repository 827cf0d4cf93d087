package web

import (
	"context"
	"net/http"
	"time"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The person's own profile: who they are, in words; the apps they may use; where they are
// signed in; and the buttons to sign out here or everywhere.

// profileApp is an app the person may use: its name and how it is reached.
type profileApp struct {
	Name, Kind string
	// Address is a protected app's host and path ("" for an OpenID Connect application).
	Address string
}

// profileSession is one live session in words.
type profileSession struct {
	What         string
	Since, Until time.Time
}

func (s *signIn) profile(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || sess.UserID == 0 {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	u, err := s.store.User(r.Context(), sess.UserID)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	src, _ := s.store.Source(r.Context(), u.SourceID)
	apps, names, err := s.usableApps(r.Context(), u.Groups)
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	live, err := s.store.UserSessions(r.Context(), u.ID)
	var grants []store.Grant
	if err == nil {
		grants, err = s.store.UserGrants(r.Context(), u.ID)
	}
	if err != nil {
		s.cfg.Logger.Error("profile sessions", "error", err)
		dbunavailable.Answer(w)
		return
	}
	var sessions []profileSession
	for _, l := range live {
		ps := profileSession{What: "This site, in a browser", Since: l.CreatedAt, Until: l.ExpiresAt}
		if l.Kind == store.ForwardAuthSession {
			ps.What = "Protected apps, in a browser"
		}
		sessions = append(sessions, ps)
	}
	for _, g := range grants {
		ps := profileSession{What: names[g.ClientID], Since: g.AuthTime, Until: g.ExpiresAt}
		if ps.What == "" {
			ps.What = g.ClientID
		}
		sessions = append(sessions, ps)
	}
	s.render(w, http.StatusOK, "profile.html", map[string]any{"User": u, "Source": src, "Session": sess, "Apps": apps, "Sessions": sessions})
}

// usableApps are the apps someone in groups may use: the OpenID Connect applications whose
// allowed groups admit them and the protected apps whose rules do; names maps each
// application's client id to its name.
func (s *signIn) usableApps(ctx context.Context, groups []string) ([]profileApp, map[string]string, error) {
	clients, err := s.store.OIDCClients(ctx)
	if err != nil {
		return nil, nil, err
	}
	rules, err := s.store.ForwardRules(ctx)
	if err != nil {
		return nil, nil, err
	}
	var apps []profileApp
	names := map[string]string{}
	for _, c := range clients {
		name := c.Name
		if name == "" {
			name = c.ID
		}
		names[c.ID] = name
		if host.AppAdmits(c.AllowedGroups, groups) {
			apps = append(apps, profileApp{Name: name, Kind: "Application"})
		}
	}
	for i := range rules {
		r := &rules[i]
		if !host.AppAdmits(r.Groups, groups) {
			continue
		}
		name := r.Name
		if name == "" {
			name = r.Host + r.PathPrefix
		}
		apps = append(apps, profileApp{Name: name, Kind: "Protected app", Address: r.Host + r.PathPrefix})
	}
	return apps, names, nil
}
