package web

import (
	"errors"
	"net/http"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
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
		}
		out = append(out, row)
	}
	return out
}

// grantsData adds to data what the pages show of grants: the sources to pick from, the rows
// of the form (and a blank one), who the grants admit and why they need confirming.
func (s *securityPages) grantsData(r *http.Request, data map[string]any, grants []host.Grant) error {
	ctx := r.Context()
	srcs, err := s.store.Sources(ctx)
	if err != nil {
		return err
	}
	byID := map[string]*store.Source{}
	for _, src := range srcs {
		byID[src.ID] = src
	}
	admins, err := host.SourceAdmins(ctx, s.store, grants)
	if err != nil {
		return err
	}
	var rows []adminRow
	for _, a := range admins {
		rows = append(rows, adminRow{Name: host.NameOf(a.User.Username, a.User.Name), Username: a.User.Username, UserID: a.User.ID,
			Source: adminGrantRows([]host.Grant{a.Grant}, byID)[0].SourceName, Group: a.Grant.Group})
	}
	data["GrantSources"], data["Grants"], data["GrantForm"] = srcs, adminGrantRows(grants, byID), append(adminGrantRows(grants, byID), adminGrantRow{})
	data["GrantAdmins"], data["GrantsUnconfirmed"] = rows, host.GrantsUnconfirmed(ctx, s.store)
	return nil
}

// setGrants saves the admin grants of the form once the admin has seen who they admit: the
// first post shows the people (and asks again), the one with confirm=1 saves.
func (s *securityPages) setGrants(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	grants, err := host.CleanGrants(formGrants(r))
	if err != nil {
		s.redirectFlash(w, r, securityPath, "Not saved: "+err.Error()+".", "error")
		return
	}
	srcs, err := s.store.Sources(ctx)
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	byID := map[string]*store.Source{}
	for _, src := range srcs {
		byID[src.ID] = src
	}
	for _, g := range grants {
		if byID[g.SourceID] == nil {
			s.redirectFlash(w, r, securityPath, "Not saved: a grant names a source that does not exist (deleted since?).", "error")
			return
		}
	}
	if r.PostFormValue("confirm") != "1" {
		data := map[string]any{"Session": sessionOf(r), "Title": "Confirm the admin grants"}
		if err := s.grantsData(r, data, grants); err != nil {
			dbunavailable.Answer(w)
			return
		}
		data["Grants"] = adminGrantRows(grants, byID)
		s.render(w, http.StatusOK, "grantsconfirm.html", data)
		return
	}
	old := host.AdminGrants(ctx, s.store)
	err = host.SetAdminGrants(ctx, s.store, grants)
	switch {
	case errors.Is(err, host.ErrPasswordOff):
		s.redirectFlash(w, r, securityPath, "Not saved: "+err.Error()+".", "error")
	case err != nil:
		dbunavailable.Answer(w)
	case len(grants) == 0:
		s.changed(w, r, "admin grants "+host.DescribeGrants(old, byID)+" removed", "Nobody signs in to the admin through a source now.")
	default:
		s.changed(w, r, "admin grants "+host.DescribeGrants(old, byID)+" became "+host.DescribeGrants(grants, byID),
			"Saved: people whom "+host.DescribeGrants(grants, byID)+" gives can open the admin by signing in through that source.")
	}
}
