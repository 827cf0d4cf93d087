package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin's page of one person: what they did (events), where they are signed in
// (sessions, app grants) with a way to end each, their last login's groups and attributes,
// disable, sign out everywhere and delete.

// personEvents is how many of a person's events their page shows.
const personEvents = 50

// personPage is person.html's data.
type personPage struct {
	Head
	User *store.User
	// Source is the name of the person's source; SourceRow the source, for its plugin's words
	// of the attributes (nil when it cannot be read).
	Source    string
	SourceRow *store.Source
	// AlsoVia are the names of the other sources the person signs in with (one account, contract 1.6).
	AlsoVia  []string
	Events   []eventRow
	Sessions []store.UserSession
	Grants   []host.AppGrant
	// Set is what the admin sets of the person: groups, display attributes (persongroups.go).
	Set personSet
	// Link is the path of the person's page.
	Link              string
	Flash, FlashLevel string
}

// personLink is the path of a person's page.
func personLink(u *store.User) string { return "/admin/users/" + strconv.FormatInt(u.ID, 10) }

func (s *peoplePages) personPage(w http.ResponseWriter, r *http.Request) error {
	id, err := personID(r)
	if err != nil {
		return err
	}
	p, err := s.people.Person(r.Context(), id, personEvents)
	if err != nil {
		return err
	}
	u := p.User
	names := s.sourceNames(r.Context())
	rows := make([]eventRow, 0, len(p.Events))
	for _, e := range p.Events {
		rows = append(rows, eventRowOf(e, names[e.SourceID]))
	}
	flash, level := s.takeFlash(w, r)
	src, _ := s.sources.Get(r.Context(), u.SourceID) // the attributes by their names without it
	var also []string
	ids, _ := s.people.Identities(r.Context(), u.ID) // the page shows without them
	for _, i := range ids {
		also = append(also, names[i.SourceID])
	}
	s.render(w, http.StatusOK, "person.html", &personPage{Head: Head{Title: nameOf(u), Session: sessionOf(r)}, User: u,
		Source: names[u.SourceID], SourceRow: src, AlsoVia: also, Events: rows, Sessions: p.Sessions, Grants: p.Grants, Link: personLink(u), Set: s.personSetOf(r, u, src),
		Flash: flash, FlashLevel: level})
	return nil
}

// revokeGrant revokes one app grant of the person: the app's tokens of it stop working.
func (s *peoplePages) revokeGrant(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userOf(r)
	if err != nil {
		return err
	}
	if err := s.people.RevokeGrant(r.Context(), u, r.PathValue("grant")); errors.Is(err, store.ErrNotFound) {
		s.redirectFlash(w, r, personLink(u), "That app access was already gone.", "warning")
		return nil
	} else if err != nil {
		return err
	}
	s.redirectFlash(w, r, personLink(u), "App access revoked: the app's tokens stop working now; the person may sign in to it again.", "info")
	return nil
}

// endSession ends one session of the person (the host's pages or forward-auth).
func (s *peoplePages) endSession(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userOf(r)
	if err != nil {
		return err
	}
	err = s.people.EndSession(r.Context(), u, store.SessionKind(r.PathValue("kind")), r.PathValue("ref"))
	if errors.Is(err, store.ErrNotFound) {
		s.redirectFlash(w, r, personLink(u), "That session had already ended.", "warning")
		return nil
	} else if err != nil {
		return err
	}
	s.redirectFlash(w, r, personLink(u), "Session ended.", "info")
	return nil
}

// signOutEverywhere ends every session and grant of the person; they may sign in again.
func (s *peoplePages) signOutEverywhere(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userOf(r)
	if err != nil {
		return err
	}
	if err := s.people.SignOutByAdmin(r.Context(), u); err != nil {
		return err
	}
	s.redirectFlash(w, r, personLink(u), "Signed out everywhere: every session and app access ended. The person may sign in again.", "info")
	return nil
}

// deleteUserPage says what deleting the person does, and what stays.
func (s *peoplePages) deleteUserPage(w http.ResponseWriter, r *http.Request) error {
	id, err := personID(r)
	if err != nil {
		return err
	}
	reach, err := s.people.Reach(r.Context(), id)
	if err != nil {
		return err
	}
	u, onSite, onApps, grants, creds := reach.User, reach.SiteSessions, reach.AppSessions, reach.Grants, reach.Credentials
	name := nameOf(u)
	ends := []string{
		fmt.Sprintf("%s is signed out of this site now (%s) and of the protected apps (%s).", name, count(onSite, "session"), count(onApps, "session")),
		fmt.Sprintf("The apps' access is revoked (%s): their tokens stop working.", count(grants, "grant")),
		"The record of the person is deleted: groups, attributes and the last login.",
	}
	for _, kind := range creds {
		k, ok := s.sources.CredentialKind(kind)
		if !ok {
			k.Kind = kind // its plugin is gone: named by its kind
		}
		ends = append(ends, "The "+k.Title()+" kept for the protected apps is deleted and signed out "+k.SignedOut()+".")
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
	s.render(w, http.StatusOK, "delete.html", &deletePage{Head: Head{Title: "Delete " + name + "?", Session: sessionOf(r)}, Ends: ends, Keeps: keeps,
		Action: personLink(u) + "/delete", Button: "Delete " + name, Cancel: personLink(u)})
	return nil
}

// deleteUser deletes the person (host.People.Delete, which records it).
func (s *peoplePages) deleteUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userOf(r)
	if err != nil {
		return err
	}
	if err := s.people.Delete(r.Context(), u); errors.Is(err, host.ErrLastWayIn) {
		s.redirectFlash(w, r, personLink(u), "Not deleted: "+err.Error()+".", "error")
		return nil
	} else if err != nil {
		return err
	}
	s.redirectFlash(w, r, "/admin/users", nameOf(u)+" was deleted. The events about them stay.", "info")
	return nil
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
