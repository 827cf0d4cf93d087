package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
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
		data := map[string]any{"Session": sessionOf(r), "Title": "Confirm the admin grants", "Proof": s.proofForm(r)}
		if err := s.grantsData(r, data, grants); err != nil {
			dbunavailable.Answer(w)
			return
		}
		data["Grants"] = adminGrantRows(grants, byID)
		s.render(w, http.StatusOK, "grantsconfirm.html", data)
		return
	}
	if err := host.CheckAdminGrants(ctx, s.store, grants); err != nil {
		s.redirectFlash(w, r, securityPath, "Not saved: "+err.Error()+".", "error")
		return
	}
	how, before, ok := s.proven(w, r)
	if !ok {
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
		s.changed(w, r, before, how, "admin grants "+host.DescribeGrants(old, byID)+" removed", "Nobody signs in to the admin through a source now.")
	default:
		s.changed(w, r, before, how, "admin grants "+host.DescribeGrants(old, byID)+" became "+host.DescribeGrants(grants, byID),
			"Saved: people whom "+host.DescribeGrants(grants, byID)+" gives can open the admin by signing in through that source.")
	}
}

// maxGrantPreviews bounds the people whose last sign-in a saved mapping is tried on (one
// plugin call each).
const maxGrantPreviews = 500

// grantChanges says, once a source's settings are saved, whom its mapping would now make an
// admin or stop being one through a grant that names the source, tried on each person's last
// sign-in document ("" when no grant names the source). It takes effect at their next
// sign-in; stillSourceAdmin reads the stored groups until then.
func (s *adminPages) grantChanges(ctx context.Context, sourceID string, p *host.Plugin) string {
	var groups []string
	for _, g := range host.AdminGrants(ctx, s.store) {
		if g.SourceID == sourceID {
			groups = append(groups, g.Group)
		}
	}
	if len(groups) == 0 {
		return ""
	}
	src, err := s.store.Source(ctx, sourceID)
	if err != nil {
		return " Admin grants: could not check who would gain or lose the admin."
	}
	users, err := s.store.SourceUsers(ctx, sourceID)
	if err != nil {
		return " Admin grants: could not check who would gain or lose the admin."
	}
	var gain, lose, unknown []string
	for i, u := range users {
		if u.Disabled {
			continue
		}
		name := host.NameOf(u.Username, u.Name)
		before := slices.ContainsFunc(groups, func(g string) bool { return u.HasGroupFrom(g, sourceID) })
		if i >= maxGrantPreviews || len(u.PreviewSample) == 0 {
			unknown = append(unknown, name)
			continue
		}
		res, err := p.P.PreviewMapping(ctx, host.Instance(src), source.PreviewRequest{Sample: u.PreviewSample})
		if err != nil || len(res.Errors) > 0 {
			unknown = append(unknown, name)
			continue
		}
		after := res.Identity.Decision.Allowed && slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(res.Identity.Groups, g) })
		switch {
		case after && !before:
			gain = append(gain, name)
		case before && !after:
			lose = append(lose, name)
		}
	}
	text := fmt.Sprintf(" Admin grants of %s: with this mapping, at their next sign-in ", src.Name)
	switch {
	case len(gain) == 0 && len(lose) == 0:
		text += "no one known here would gain or lose the admin"
	case len(lose) == 0:
		text += "these would become admins: " + strings.Join(gain, ", ")
	case len(gain) == 0:
		text += "these would no longer be admins: " + strings.Join(lose, ", ")
	default:
		text += "these would become admins: " + strings.Join(gain, ", ") + "; these would no longer be: " + strings.Join(lose, ", ")
	}
	if len(unknown) > 0 {
		text += fmt.Sprintf(" (%d without a stored sign-in not checked)", len(unknown))
	}
	return text + "."
}
