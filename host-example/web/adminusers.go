package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Admin pages of the people who logged in and of what happened.

// usersPage is users.html's data.
type usersPage struct {
	Head
	Users []*store.User
	// Names are the sources' names by id.
	Names             map[string]string
	Query             string
	Flash, FlashLevel string
	// Pairs are the people the admin may link into one (one account in two sources).
	Pairs []host.LinkPair
}

func (s *peoplePages) usersPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query().Get("q")
	users, err := s.people.Search(r.Context(), q)
	if err != nil {
		return err
	}
	pairs, err := s.people.LinkPairs(r.Context())
	if err != nil {
		return err
	}
	names := s.sourceNames(r.Context())
	flash, level := s.takeFlash(w, r)
	s.render(w, http.StatusOK, "users.html", &usersPage{Head: Head{Session: sessionOf(r)}, Users: users, Names: names, Query: q,
		Flash: flash, FlashLevel: level, Pairs: pairs})
	return nil
}

// linkPeople links a pair of people (form fields a and b, person ids) into one.
func (s *peoplePages) linkPeople(w http.ResponseWriter, r *http.Request) error {
	a, errA := strconv.ParseInt(r.FormValue("a"), 10, 64)
	b, errB := strconv.ParseInt(r.FormValue("b"), 10, 64)
	if errA != nil || errB != nil {
		s.redirectFlash(w, r, "/admin/users", "Not linked: "+host.ErrNotLinkable.Error()+".", "error")
		return nil
	}
	keep, err := s.people.Link(r.Context(), a, b)
	if errors.Is(err, host.ErrNotLinkable) {
		s.redirectFlash(w, r, "/admin/users", "Not linked: "+err.Error()+".", "error")
		return nil
	} else if err != nil {
		return err
	}
	s.redirectFlash(w, r, personLink(keep), "Linked: one person, who keeps this page's id (sub); the other is retired.", "info")
	return nil
}

func (s *peoplePages) setUserDisabled(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userOf(r)
	if err != nil {
		return err
	}
	disable := r.FormValue("disabled") == "1"
	if !disable && u.Disabled && s.holdsGrant(r, u) {
		if _, ok := s.proofOrAsk(w, r, "Turning "+host.NameOf(u.Username, u.Name)+" on again lets them open the admin: their sign-in gave them a granted group."); !ok {
			return nil
		}
	}
	if err := s.people.SetDisabled(r.Context(), u, disable); errors.Is(err, host.ErrRetired) {
		s.redirectFlash(w, r, personLink(u), "Not changed: "+err.Error()+".", "error")
		return nil
	} else if errors.Is(err, host.ErrLastWayIn) {
		s.redirectFlash(w, r, personLink(u), "Not turned off: "+err.Error()+".", "error")
		return nil
	} else if err != nil {
		return err
	}
	if r.FormValue("back") == "person" {
		http.Redirect(w, r, personLink(u), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	return nil
}

// sourceNames are the sources' names by id (empty when they cannot be read: the page still shows).
func (s *peoplePages) sourceNames(ctx context.Context) map[string]string {
	names, _ := s.eventSources(ctx)
	return names
}

// userOf is the person the path names (an error wrapping store.ErrNotFound when there is none).
func (s *peoplePages) userOf(r *http.Request) (*store.User, error) {
	id, err := personID(r)
	if err != nil {
		return nil, err
	}
	return s.people.Get(r.Context(), id)
}

// personID is the id of the person the path names (an error wrapping store.ErrNotFound when
// it is no id).
func personID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, errors.Join(store.ErrNotFound, err)
	}
	return id, nil
}
