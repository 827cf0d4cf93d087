package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin's page of one person: what they did (events), where they are signed in
// (sessions, app grants) with a way to end each, their last login's groups and attributes,
// disable, sign out everywhere and delete.

// personEvents is how many of a person's events their page shows.
const personEvents = 50

// grantRow is an app grant as the person page shows it.
type grantRow struct {
	store.Grant
	App string
}

// userOf is the user the path names; it answers 404 itself when there is none.
func (s *peoplePages) userOf(w http.ResponseWriter, r *http.Request) (*store.User, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return nil, false
	}
	u, err := s.store.User(r.Context(), id)
	return loaded(w, r, u, err)
}

// personLink is the path of a person's page.
func personLink(u *store.User) string { return "/admin/users/" + strconv.FormatInt(u.ID, 10) }

func (s *peoplePages) personPage(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	evs, err1 := s.store.UserEvents(ctx, u.SourceID, u.Subject, personEvents)
	sessions, err2 := s.store.UserSessions(ctx, u.ID)
	grants, err3 := s.store.UserGrants(ctx, u.ID)
	if err := errors.Join(err1, err2, err3); err != nil {
		dbunavailable.Answer(w)
		return
	}
	names := s.sourceNames(ctx)
	rows := make([]eventRow, 0, len(evs))
	for _, e := range evs {
		rows = append(rows, eventRowOf(e, names[e.SourceID]))
	}
	apps := make([]grantRow, 0, len(grants))
	for _, g := range grants {
		row := grantRow{Grant: g, App: g.ClientID}
		if c, err := s.store.OIDCClientByID(ctx, g.ClientID); err == nil {
			row.App = c.Name
		}
		apps = append(apps, row)
	}
	flash, level := s.takeFlash(w, r)
	s.render(w, http.StatusOK, "person.html", map[string]any{"Title": nameOf(u), "User": u,
		"Source": names[u.SourceID], "Events": rows, "Sessions": sessions, "Grants": apps, "Link": personLink(u),
		"Flash": flash, "FlashLevel": level, "Session": sessionOf(r)})
}

// adminEvent records what the admin did to a person.
func (s *peoplePages) adminEvent(r *http.Request, u *store.User, kind store.EventKind, detail string) {
	_ = s.store.AddEvent(r.Context(), store.Event{SourceID: u.SourceID, Kind: kind, Subject: u.Subject,
		Name: host.NameOf(u.Username, u.Name), Detail: detail})
}

// revokeGrant revokes one app grant of the person: the app's tokens of it stop working.
func (s *peoplePages) revokeGrant(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userOf(w, r)
	if !ok {
		return
	}
	err := s.store.RevokeUserGrant(r.Context(), u.ID, r.PathValue("grant"))
	if errors.Is(err, store.ErrNotFound) {
		s.redirectFlash(w, r, personLink(u), "That app access was already gone.", "warning")
		return
	} else if err != nil {
		dbunavailable.Answer(w)
		return
	}
	s.adminEvent(r, u, store.EventAdminAccessRevoked, "an app's access (OpenID Connect grant) revoked by the admin")
	s.redirectFlash(w, r, personLink(u), "App access revoked: the app's tokens stop working now; the person may sign in to it again.", "info")
}

// endSession ends one session of the person (the host's pages or forward-auth).
func (s *peoplePages) endSession(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userOf(w, r)
	if !ok {
		return
	}
	kind := store.SessionKind(r.PathValue("kind"))
	err := s.store.EndUserSession(r.Context(), u.ID, kind, r.PathValue("ref"))
	if errors.Is(err, store.ErrNotFound) {
		s.redirectFlash(w, r, personLink(u), "That session had already ended.", "warning")
		return
	} else if err != nil {
		dbunavailable.Answer(w)
		return
	}
	s.adminEvent(r, u, store.EventAdminAccessRevoked, fmt.Sprintf("a %s session ended by the admin", sessionWords[kind]))
	s.redirectFlash(w, r, personLink(u), "Session ended.", "info")
}

// sessionWords name the kinds of sessions.
var sessionWords = map[store.SessionKind]string{store.HostSession: "sign-in", store.ForwardAuthSession: "protected apps"}

// signOutEverywhere ends every session and grant of the person; they may sign in again.
func (s *peoplePages) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userOf(w, r)
	if !ok {
		return
	}
	if err := s.people.SignOutEverywhere(r.Context(), u); err != nil {
		dbunavailable.Answer(w)
		return
	}
	s.adminEvent(r, u, store.EventAdminAccessRevoked, "signed out everywhere by the admin")
	s.redirectFlash(w, r, personLink(u), "Signed out everywhere: every session and app access ended. The person may sign in again.", "info")
}

// deleteUserPage says what deleting the person does, and what stays.
func (s *peoplePages) deleteUserPage(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	sessions, err1 := s.store.UserSessions(ctx, u.ID)
	grants, err2 := s.store.UserGrants(ctx, u.ID)
	creds, err3 := s.store.UserCredentials(ctx, u.ID)
	if err := errors.Join(err1, err2, err3); err != nil {
		dbunavailable.Answer(w)
		return
	}
	var onSite, onApps int
	for _, ss := range sessions {
		if ss.Kind == store.HostSession {
			onSite++
		} else {
			onApps++
		}
	}
	name := nameOf(u)
	ends := []string{
		fmt.Sprintf("%s is signed out of this site now (%s) and of the protected apps (%s).", name, count(onSite, "session"), count(onApps, "session")),
		fmt.Sprintf("The apps' access is revoked (%s): their tokens stop working.", count(len(grants), "grant")),
		"The record of the person is deleted: groups, attributes and the last login.",
	}
	if len(creds) > 0 {
		ends = append(ends, "The Plex token kept for the protected apps is deleted and signed out at plex.tv.")
	}
	keeps := []string{
		"The events about " + name + " (sign-ins, refusals, this deletion) keep the name and the account id " + u.Subject +
			": they are the audit trail, and go with the other events after 90 days.",
		"If " + name + " signs in again, that makes a new person here, with a new id for apps (sub): apps see a new account.",
	}
	if u.Username != "" {
		keeps = append(keeps, "The username "+u.Username+" stays reserved: nobody gets it again, this person included "+
			"(they would sign in as "+u.Username+"-2), so an app that knows accounts by username never gives the old account to someone new.")
	}
	keeps = append(keeps, "Deleting does not keep "+name+" out: to do that, disable the person instead, or change who the source lets in.")
	s.render(w, http.StatusOK, "delete.html", map[string]any{"Title": "Delete " + name + "?", "Ends": ends, "Keeps": keeps,
		"Action": personLink(u) + "/delete", "Button": "Delete " + name, "Cancel": personLink(u), "Session": sessionOf(r)})
}

// deleteUser deletes the person (host.People.Delete) and records it.
func (s *peoplePages) deleteUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userOf(w, r)
	if !ok {
		return
	}
	if err := s.adm.CheckWayInKept(r.Context(), "", u); err != nil {
		s.redirectFlash(w, r, personLink(u), "Not deleted: "+err.Error()+".", "error")
		return
	}
	if err := s.people.Delete(r.Context(), u); err != nil {
		dbunavailable.Answer(w)
		return
	}
	s.adminEvent(r, u, store.EventAdminUserDeleted, "deleted by the admin: sessions, app access and kept credentials ended")
	s.redirectFlash(w, r, "/admin/users", nameOf(u)+" was deleted. The events about them stay.", "info")
}

// nameOf is a person's name as the admin reads it: the display name, else the username, else the id.
func nameOf(u *store.User) string { return host.NameOf(u.Name, u.Username, u.Subject) }

// count is n with its noun, singular or plural ("1 session", "2 sessions", "2 people").
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if noun == "person" {
		return fmt.Sprintf("%d people", n)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
