package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// A person's display attributes (host/display.go): the admin's edit of them on the person
// page, and a source's sync modes on its page, when a sign-in sets each of name, e-mail and
// picture again.

// displayRow is one display attribute, its value and whether the next login replaces it.
type displayRow struct {
	host.SyncedAttribute
	Value string
}

// displayRows are u's display attributes with the sync modes of their source src (nil: not
// read, the default modes).
func displayRows(u *store.User, src *store.Source) []displayRow {
	var sync store.DisplaySync
	if src != nil {
		sync = src.Sync
	}
	values := map[string]string{"name": u.Name, "email": u.Email, "picture": u.Picture}
	var out []displayRow
	for _, a := range host.SyncedAttributes(sync) {
		out = append(out, displayRow{SyncedAttribute: a, Value: values[a.Key]})
	}
	return out
}

// setSync saves the sync modes of the source's form (sync_name, sync_email, sync_picture).
func (s *sourcePages) setSync(w http.ResponseWriter, r *http.Request) error {
	src, err := s.sources.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	back := "/admin/sources/" + src.ID + "#sync-modes"
	sync, err := host.DisplaySyncOf(map[string]string{"name": r.PostFormValue("sync_name"), "email": r.PostFormValue("sync_email"),
		"picture": r.PostFormValue("sync_picture")})
	if errors.Is(err, host.ErrBadSyncMode) {
		s.redirectFlash(w, r, back, "Not saved: "+err.Error()+".", "error")
		return nil
	}
	changed, err := s.sources.SetSync(r.Context(), src, sync)
	switch {
	case err != nil:
		return err
	case !changed:
		s.redirectFlash(w, r, back, "The sync modes were already these.", "warning")
	default:
		s.redirectFlash(w, r, back, "Sync modes saved: "+host.DescribeSync(sync)+". They apply from each person's next sign-in; "+
			"groups are set at every sign-in whatever the modes.", "info")
	}
	return nil
}

// setDisplay sets the person's display attributes as the admin typed them, and says which of
// them the next sign-in sets again (every login) and which it keeps (first login only).
func (s *peoplePages) setDisplay(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userOf(r)
	if err != nil {
		return err
	}
	changed, err := s.people.SetDisplay(r.Context(), u, store.Display{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"),
		Picture: r.PostFormValue("picture")})
	back := personLink(u) + "#person-display"
	switch {
	case errors.Is(err, host.ErrBadPicture), errors.Is(err, host.ErrBadEmail):
		s.redirectFlash(w, r, back, "Not saved: "+err.Error()+".", "error")
		return nil
	case err != nil:
		return err
	case !changed:
		s.redirectFlash(w, r, back, "Nothing changed.", "warning")
		return nil
	}
	var sync store.DisplaySync
	if src, err := s.sources.Get(r.Context(), u.SourceID); err == nil {
		sync = src.Sync
	}
	var again []string
	for _, a := range host.SyncedAttributes(sync) {
		if !a.FirstLoginOnly() {
			again = append(again, strings.ToLower(a.Title))
		}
	}
	text := "Saved. Their source sets these at the first login only, so they stay."
	if len(again) > 0 {
		text = "Saved. Their next sign-in sets the " + strings.Join(again, ", ") + " again from the source (every login): " +
			"to keep an edit, set that attribute to \"first login only\" on the source's page."
	}
	s.redirectFlash(w, r, back, text, "info")
	return nil
}
