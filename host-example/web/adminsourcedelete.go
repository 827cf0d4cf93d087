package web

import (
	"fmt"
	"net/http"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Deleting a source: a page that says what goes with it, then the deletion.

// sourceOf is the source the path names, whether or not its plugin is loaded (a source
// whose plugin is gone can be deleted too); it answers 404 itself when there is none.
func (s *sourcePages) sourceOf(w http.ResponseWriter, r *http.Request) (*store.Source, bool) {
	src, err := s.store.Source(r.Context(), r.PathValue("id"))
	return loaded(w, r, src, err)
}

// deleteSourcePage says what deleting the source ends, and what stays.
func (s *sourcePages) deleteSourcePage(w http.ResponseWriter, r *http.Request) {
	src, ok := s.sourceOf(w, r)
	if !ok {
		return
	}
	use, err := s.store.SourceUsage(r.Context(), src.ID)
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	ends := []string{"The source " + src.Name + " and its settings (the secrets in them included) are deleted: nobody can sign in with it, " +
		"and sign-ins with it under way fail."}
	switch {
	case src.Config == nil && use.Users == 0:
		ends = append(ends, "It was never configured: nobody has signed in with it, so nothing else goes.")
	case use.Users == 0:
		ends = append(ends, "Nobody has signed in with it yet, so nothing else goes.")
	default:
		ends = append(ends,
			fmt.Sprintf("Its %s are deleted, as deleting each on their page does:", count(use.Users, "person")),
			fmt.Sprintf("%s on this site and %s of protected apps end now;", count(use.Sessions, "session"), count(use.ForwardSessions, "session")),
			fmt.Sprintf("%s of apps (OpenID Connect) are revoked: their tokens stop working;", count(use.Grants, "grant")))
		if use.Credentials > 0 {
			ends = append(ends, fmt.Sprintf("%s kept for protected apps are deleted and signed out upstream (plex.tv) where the plugin can.",
				count(use.Credentials, "credential")))
		}
	}
	keeps := []string{"Events stay, the name and account id of each person in them included: they are the audit trail (90 days).",
		"The usernames of its people stay reserved: nobody gets them again.",
		"Someone who signs in later through a new source is a new person here, with a new id for apps (sub)."}
	s.render(w, http.StatusOK, "delete.html", map[string]any{"Title": "Delete the source " + src.Name + "?", "Ends": ends, "Keeps": keeps,
		"Action": "/admin/sources/" + src.ID + "/delete", "Button": "Delete " + src.Name, "Cancel": "/admin", "Session": sessionOf(r)})
}

// deleteSource deletes the source with its people (host.People.DeleteSource) and records it.
func (s *sourcePages) deleteSource(w http.ResponseWriter, r *http.Request) {
	src, ok := s.sourceOf(w, r)
	if !ok {
		return
	}
	if err := s.adm.CheckWayInKept(r.Context(), src.ID, nil); err != nil {
		s.redirectFlash(w, r, "/admin", "Not deleted: "+err.Error()+".", "error")
		return
	}
	use, _ := s.store.SourceUsage(r.Context(), src.ID)
	if err := s.people.DeleteSource(r.Context(), src); err != nil {
		dbunavailable.Answer(w)
		return
	}
	_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: store.EventAdminSourceDeleted,
		Detail: fmt.Sprintf("%s (%s) deleted with its %s", src.Name, src.PluginID, count(use.Users, "person"))})
	s.redirectFlash(w, r, "/admin", "The source "+src.Name+" was deleted.", "info")
}
