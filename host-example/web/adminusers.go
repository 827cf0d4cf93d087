package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Admin pages of the people who logged in and of what happened.

func (s *peoplePages) usersPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	users, err := s.store.SearchUsers(r.Context(), q)
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	names := s.sourceNames(r.Context())
	flash, level := s.takeFlash(w, r)
	s.render(w, http.StatusOK, "users.html", map[string]any{"Users": users, "Names": names, "Query": q, "Flash": flash, "FlashLevel": level,
		"Session": sessionOf(r)})
}

func (s *peoplePages) setUserDisabled(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	disable := r.FormValue("disabled") == "1"
	if u, err := s.store.User(r.Context(), id); err == nil && disable {
		if err := s.adm.CheckWayInKept(r.Context(), "", u); err != nil {
			s.redirectFlash(w, r, personLink(u), "Not turned off: "+err.Error()+".", "error")
			return
		}
	}
	if u, err := s.store.User(r.Context(), id); err == nil && !disable && u.Disabled && s.holdsGrant(r, u) {
		if _, ok := s.proofOrAsk(w, r, "Turning "+host.NameOf(u.Username, u.Name)+" on again lets them open the admin: their sign-in gave them a granted group."); !ok {
			return
		}
	}
	if u, err := s.store.User(r.Context(), id); err == nil {
		kind := store.EventAdminUserEnabled
		if disable {
			kind = store.EventAdminUserDisabled
		}
		_ = s.store.AddEvent(r.Context(), store.Event{SourceID: u.SourceID, Kind: kind, Subject: u.Subject, Name: host.NameOf(u.Username, u.Name)})
	}
	var err2 error
	if u, err := s.store.User(r.Context(), id); err != nil {
		err2 = err
	} else if disable && s.people != nil {
		err2 = s.people.Disable(r.Context(), u, store.DisabledByAdmin)
	} else {
		err2 = s.store.SetDisabled(r.Context(), id, disable, store.DisabledByAdmin)
	}
	if err := err2; err != nil {
		if errors.Is(err, store.ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		dbunavailable.Answer(w)
		return
	}
	if r.FormValue("back") == "person" {
		http.Redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// sourceNames are the sources' names by id (empty when they cannot be read: the page still shows).
func (s *peoplePages) sourceNames(ctx context.Context) map[string]string {
	srcs, _ := s.store.Sources(ctx)
	names := map[string]string{}
	for _, src := range srcs {
		names[src.ID] = src.Name
	}
	return names
}
