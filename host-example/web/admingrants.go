package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin grants on the security page: each names a source and a group of that source's
// mapping (host/admingrants.go). Saving shows first who would be an admin, then saves.

// adminGrantRow is one admin grant as the pages show it.
type adminGrantRow struct {
	SourceID, SourceName, Group string
}

// adminRow is one person the grants admit, as the pages show it.
type adminRow struct {
	Name, Username, Source, Group string
	UserID                        int64
}

// formGrants are the grants of the form's grant_source and grant_group lines, in order.
func formGrants(r *http.Request) []host.Grant {
	_ = r.ParseForm()
	srcs, groups := r.PostForm["grant_source"], r.PostForm["grant_group"]
	var out []host.Grant
	for i := range max(len(srcs), len(groups)) {
		var g host.Grant
		if i < len(srcs) {
			g.SourceID = srcs[i]
		}
		if i < len(groups) {
			g.Group = groups[i]
		}
		out = append(out, g)
	}
	return out
}

// adminGrantRows are grants with their sources' names, for the pages.
func adminGrantRows(grants []host.Grant, byID map[string]*store.Source) []adminGrantRow {
	var out []adminGrantRow
	for _, g := range grants {
		row := adminGrantRow{SourceID: g.SourceID, Group: g.Group, SourceName: g.SourceID}
		if src := byID[g.SourceID]; src != nil {
			row.SourceName = src.Name
		} else if g.SourceID == store.FromAdmin {
			row.SourceName = host.AdminSetOrigin
		}
		out = append(out, row)
	}
	return out
}

// grantsForm is what the pages show of grants: the sources to pick from, the rows of the
// form (and a blank one), who the grants admit and why they need confirming.
type grantsForm struct {
	GrantSources      []*store.Source
	Grants, GrantForm []adminGrantRow
	GrantAdmins       []adminRow
	GrantsUnconfirmed string
}

// grantsFormOf is v as the pages show it.
func grantsFormOf(v host.GrantsView) grantsForm {
	var rows []adminRow
	for _, a := range v.Admins {
		row := adminRow{Name: host.NameOf(a.User.Username, a.User.Name), Username: a.User.Username, UserID: a.User.ID,
			Source: adminGrantRows([]host.Grant{a.Grant}, v.ByID)[0].SourceName, Group: a.Grant.Group}
		if a.Grant.SourceID == store.FromAdmin { // they sign in through their own source
			row.Source = adminGrantRows([]host.Grant{{SourceID: a.User.SourceID}}, v.ByID)[0].SourceName + " (a group " + host.AdminSetOrigin + ")"
		}
		rows = append(rows, row)
	}
	return grantsForm{GrantSources: v.Sources, Grants: adminGrantRows(v.Grants, v.ByID), GrantForm: append(adminGrantRows(v.Grants, v.ByID), adminGrantRow{}),
		GrantAdmins: rows, GrantsUnconfirmed: v.Unconfirmed}
}

// grantsConfirmPage is grantsconfirm.html's data: the grants proposed and whom they admit.
type grantsConfirmPage struct {
	Head
	grantsForm
	Proof *proofForm
}

// setGrants saves the admin grants of the form once the admin has seen who they admit: the
// first post shows the people (and asks again), the one with confirm=1 saves.
func (s *securityPages) setGrants(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v, err := s.adm.ProposeGrants(ctx, formGrants(r))
	switch {
	case errors.Is(err, host.ErrBadGrant):
		return s.notDone(w, r, "Not saved: "+err.Error()+".")
	case errors.Is(err, host.ErrGrantSourceGone):
		return s.notDone(w, r, "Not saved: a grant names a source that does not exist (deleted since?).")
	case err != nil:
		return err
	}
	if r.PostFormValue("confirm") != "1" {
		s.render(w, http.StatusOK, "grantsconfirm.html", &grantsConfirmPage{Head: Head{Session: sessionOf(r), Title: "Confirm the admin grants"},
			grantsForm: grantsFormOf(v), Proof: s.proofForm(r)})
		return nil
	}
	err = s.adm.SetGrantsProven(ctx, s.proofOf(r), v.Grants, v.ByID)
	if errors.Is(err, host.ErrPasswordOff) {
		return s.notDone(w, r, "Not saved: "+err.Error()+".")
	}
	if len(v.Grants) == 0 {
		return s.changed(w, r, err, "Nobody signs in to the admin through a source now.")
	}
	return s.changed(w, r, err, "Saved: people whom "+host.DescribeGrants(v.Grants, v.ByID)+" gives can open the admin by signing in through that source.")
}

// grantChanges says, once a source's settings are saved, whom its mapping would now make an
// admin or stop being one through a grant that names the source, tried on each person's last
// sign-in document ("" when no grant names the source; host.Admin.GrantChangesOf).
func (s *adminKit) grantChanges(ctx context.Context, sourceID string, p *host.Plugin) string {
	c, err := s.adm.GrantChangesOf(ctx, sourceID, p)
	if err != nil {
		return " Admin grants: could not check who would gain or lose the admin."
	}
	if c == nil {
		return ""
	}
	text := fmt.Sprintf(" Admin grants of %s: with this mapping, at their next sign-in ", c.Source)
	switch {
	case len(c.Gain) == 0 && len(c.Lose) == 0:
		text += "no one known here would gain or lose the admin"
	case len(c.Lose) == 0:
		text += "these would become admins: " + strings.Join(c.Gain, ", ")
	case len(c.Gain) == 0:
		text += "these would no longer be admins: " + strings.Join(c.Lose, ", ")
	default:
		text += "these would become admins: " + strings.Join(c.Gain, ", ") + "; these would no longer be: " + strings.Join(c.Lose, ", ")
	}
	if len(c.Unknown) > 0 {
		text += fmt.Sprintf(" (%d without a stored sign-in not checked)", len(c.Unknown))
	}
	return text + "."
}
