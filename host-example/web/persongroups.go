package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The groups the admin sets of one person on their page (host/persongroups.go): given by
// hand, kept across logins. The display attributes are persondisplay.go.

// personSet is what the person page shows of what the admin sets: the groups from the
// person's source, those the admin gave (each with whether a grant makes it open the admin),
// and the display attributes with their sync modes.
type personSet struct {
	SourceGroups []string
	AdminGroups  []adminGroupRow
	Display      []displayRow
}

// adminGroupRow is a group the admin gave; Grant says an admin grant names it.
type adminGroupRow struct {
	Name  string
	Grant bool
}

// personSetOf is what the person page shows of u, whose source is src (nil: not read).
func (s *adminKit) personSetOf(r *http.Request, u *store.User, src *store.Source) personSet {
	var out personSet
	for _, m := range u.Memberships {
		if m.From != store.FromAdmin {
			out.SourceGroups = append(out.SourceGroups, m.Group)
		}
	}
	grants := s.adm.Grants(r.Context())
	for _, g := range u.AdminGroups() {
		out.AdminGroups = append(out.AdminGroups, adminGroupRow{Name: g, Grant: host.GrantsAdminGroup(grants, g)})
	}
	out.Display = displayRows(u, src)
	return out
}

// changeGroup gives the person a group (add) or takes one the admin gave away (remove); a
// group an admin grant names asks for the proof of the current admin first.
func (s *peoplePages) changeGroup(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userOf(r)
	if err != nil {
		return err
	}
	c := host.GroupChange{Add: r.PostFormValue("add"), Remove: r.PostFormValue("remove")}
	back := personLink(u) + "#person-groups-card"
	if c.Add == "" && c.Remove == "" {
		s.redirectFlash(w, r, back, "Enter a group to give.", "warning")
		return nil
	}
	changed, err := s.people.ChangeAdminGroup(r.Context(), u, c, s.proofOf(r))
	var refused *host.ErrProof
	switch {
	case errors.As(err, &refused):
		s.askProof(w, r, err, "An admin grant names this group as set by the admin: whoever has it can open the admin.")
		return nil
	case errors.Is(err, host.ErrBadGroup), errors.Is(err, host.ErrTooManyGroups), errors.Is(err, host.ErrLastWayIn):
		s.redirectFlash(w, r, back, "Not changed: "+err.Error()+".", "error")
		return nil
	case err != nil:
		return err
	case !changed && c.Add != "":
		s.redirectFlash(w, r, back, nameOf(u)+" already has that group from you.", "warning")
	case !changed:
		s.redirectFlash(w, r, back, "That group was already taken away.", "warning")
	case c.Add != "":
		s.redirectFlash(w, r, back, fmt.Sprintf("%s now has the group %q, kept across their sign-ins until you take it away.",
			nameOf(u), strings.TrimSpace(c.Add)), "info")
	default:
		s.redirectFlash(w, r, back, fmt.Sprintf("The group %q you gave is taken away (a source may still give a group of that name).",
			strings.TrimSpace(c.Remove)), "info")
	}
	return nil
}
