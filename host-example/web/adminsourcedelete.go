package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/host"
)

// Deleting a source: a page that says what goes with it, then the deletion.

// deletePage is delete.html's data: what deleting something ends and what stays, and the
// form that confirms it.
type deletePage struct {
	Head
	Ends, Keeps            []string
	Action, Button, Cancel string
}

// deleteSourcePage says what deleting the source ends, and what stays. The source is the
// one the path names, whether or not its plugin is loaded (a source whose plugin is gone can
// be deleted too).
func (s *sourcePages) deleteSourcePage(w http.ResponseWriter, r *http.Request) error {
	src, err := s.sources.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	use, err := s.sources.Usage(r.Context(), src.ID)
	if err != nil {
		return err
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
			where := "upstream"
			if ups := s.sources.Upstreams(src); len(ups) > 0 {
				where += " (" + strings.Join(ups, ", ") + ")"
			}
			ends = append(ends, fmt.Sprintf("%s kept for protected apps are deleted and signed out %s where the plugin can.",
				count(use.Credentials, "credential"), where))
		}
	}
	keeps := []string{"Events stay, the name and account id of each person in them included: they are the audit trail (90 days).",
		"The usernames of its people stay reserved: nobody gets them again.",
		"Someone who signs in later through a new source is a new person here, with a new id for apps (sub)."}
	s.render(w, http.StatusOK, "delete.html", &deletePage{Head: Head{Title: "Delete the source " + src.Name + "?", Session: sessionOf(r)},
		Ends: ends, Keeps: keeps, Action: "/admin/sources/" + src.ID + "/delete", Button: "Delete " + src.Name, Cancel: "/admin"})
	return nil
}

// deleteSource deletes the source with its people (host.People.DeleteSource, which records it).
func (s *sourcePages) deleteSource(w http.ResponseWriter, r *http.Request) error {
	src, err := s.sources.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	switch err := s.people.DeleteSource(r.Context(), src); {
	case errors.Is(err, host.ErrLastWayIn):
		s.redirectFlash(w, r, "/admin", "Not deleted: "+err.Error()+".", "error")
	case err != nil:
		return err
	default:
		s.redirectFlash(w, r, "/admin", "The source "+src.Name+" was deleted.", "info")
	}
	return nil
}
