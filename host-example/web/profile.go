package web

import (
	"errors"
	"net/http"
	"net/url"
	"time"

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

// profileSession is one live session in words, and the address that ends it.
type profileSession struct {
	What         string
	Since, Until time.Time
	End          string
}

// profilePage is profile.html's data.
type profilePage struct {
	Head
	User *store.User
	// Source is the person's source (nil when it cannot be read).
	Source   *store.Source
	Apps     []profileApp
	Sessions []profileSession
}

func (s *signIn) profile(w http.ResponseWriter, r *http.Request) error {
	u, r, ok := s.personOrLogin(w, r, s.people)
	if !ok {
		return nil
	}
	p, err := s.people.Profile(r.Context(), u)
	if err != nil {
		return err
	}
	var apps []profileApp
	for _, a := range p.Apps {
		app := profileApp{Name: a.Name, Kind: "Application"}
		if a.Protected {
			app.Kind, app.Address = "Protected app", a.Address
		}
		apps = append(apps, app)
	}
	var sessions []profileSession
	for _, l := range p.Sessions {
		ps := profileSession{What: "This site, in a browser", Since: l.CreatedAt, Until: l.ExpiresAt,
			End: "/profile/sessions/" + url.PathEscape(string(l.Kind)) + "/" + url.PathEscape(l.Ref)}
		if l.Kind == store.ForwardAuthSession {
			ps.What = "Protected apps, in a browser"
		} else if l.Remembered {
			ps.What = "This site, on a device kept signed in"
		}
		sessions = append(sessions, ps)
	}
	for _, g := range p.Grants {
		sessions = append(sessions, profileSession{What: g.App, Since: g.AuthTime, Until: g.ExpiresAt, End: "/profile/grants/" + url.PathEscape(g.ID)})
	}
	s.render(w, http.StatusOK, "profile.html", &profilePage{Head: Head{Session: sessionOf(r)}, User: u, Source: p.Source, Apps: apps, Sessions: sessions})
	return nil
}

// endOwn ends one of the signed-in person's own sessions (a device, their protected apps in
// a browser) or one app's access, after the same CSRF check as a sign-out; ending this
// browser's own session signs it out.
func (s *signIn) endOwn(w http.ResponseWriter, r *http.Request) error {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) || sess.UserID == 0 {
		s.message(w, r, http.StatusForbidden, "Nothing ended", "This request did not come from this site's page.", "/profile")
		return nil
	}
	u, err := s.people.Get(r.Context(), sess.UserID)
	if err != nil {
		return err
	}
	if grant := r.PathValue("grant"); grant != "" {
		err = s.people.EndOwnGrant(r.Context(), u, grant)
	} else {
		err = s.people.EndOwnSession(r.Context(), u, store.SessionKind(r.PathValue("kind")), r.PathValue("ref"))
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) { // already ended: the profile shows what is left
		return err
	}
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
	return nil
}
