package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Admin grants: saving them, who they admit, and the upgrade of the bare admin group of
// earlier versions (one group name matched against every source's groups) into grants.

// Meta keys of the grants' upgrade.
const (
	// metaAdminGroup is the bare admin group of earlier versions (UpgradeGroup empties it).
	metaAdminGroup = "admin_group"
	// metaGrantsUnconfirmed says why the grants need the admin's confirmation ("": they do not).
	metaGrantsUnconfirmed = "admin_grants_unconfirmed"
)

// ErrBadGrant refuses a grant that names a group without a source.
var ErrBadGrant = errors.New("each admin grant names the source whose group it is")

// A grant names a source, or store.FromAdmin: the groups the admin set by hand on person
// pages (persongroups.go); a group of the same name from any source then does not count.

// CleanGrants are grants trimmed, each once, without those that name no group (a form's
// blank or emptied line); ErrBadGrant when one names a group without a source.
func CleanGrants(grants []Grant) ([]Grant, error) {
	out := []Grant{}
	for _, g := range grants {
		g = Grant{SourceID: strings.TrimSpace(g.SourceID), Group: strings.TrimSpace(g.Group)}
		switch {
		case g.Group == "":
		case g.SourceID == "":
			return nil, ErrBadGrant
		case !slices.Contains(out, g):
			out = append(out, g)
		}
	}
	return out, nil
}

// SetGrants replaces the admin grants (cleaned) and marks them confirmed. While the
// local password is off they must keep the grant the last source admin signed in with
// (ErrPasswordOff), so someone can still get in.
func (a *Admin) SetGrants(ctx context.Context, grants []Grant) error {
	grants, err := CleanGrants(grants)
	if err != nil {
		return err
	}
	if err := a.CheckGrants(ctx, grants); err != nil {
		return err
	}
	b, _ := json.Marshal(grants)
	if err := a.st.SetMeta(ctx, metaAdminGrants, string(b)); err != nil {
		return fmt.Errorf("set the admin grants: %w", err)
	}
	if err := a.st.SetMeta(ctx, metaGrantsUnconfirmed, ""); err != nil {
		return fmt.Errorf("set the admin grants: %w", err)
	}
	return nil
}

// CheckGrants refuses grants that would leave no way in: while the local password is off
// they must keep the grant the last source admin signed in with (ErrPasswordOff).
func (a *Admin) CheckGrants(ctx context.Context, grants []Grant) error {
	if !a.PasswordOn(ctx) {
		if in := a.LastSourceSignIn(ctx); in == nil || !slices.Contains(grants, in.Grant()) {
			return ErrPasswordOff
		}
	}
	return nil
}

// ErrLastWayIn refuses turning off or deleting the source or the person of the last admin
// sign-in through a source while the local password is off.
var ErrLastWayIn = errors.New("the local password is off, and this is the way in of the last person who signed in to the admin " +
	"through a source: turn the local password on first (Security page)")

// CheckWayInKept refuses (ErrLastWayIn) turning off or deleting the source sourceID
// ("": none) or the person u (nil: none) while the local password is off and they are the
// source or the person of the last admin sign-in through a source: as CheckGrants
// refuses grants without its grant, since no way in but the server's command line would be
// left. A sign-in recorded without its person matches whoever holds its grant.
func (a *Admin) CheckWayInKept(ctx context.Context, sourceID string, u *store.User) error {
	if a.PasswordOn(ctx) {
		return nil
	}
	in := a.LastSourceSignIn(ctx)
	switch {
	case in == nil:
		return nil
	case sourceID != "" && sourceID == in.SourceID,
		u != nil && in.UserID != 0 && u.ID == in.UserID,
		u != nil && in.UserID == 0 && u.HasGroupFrom(in.Group, in.SourceID):
		return ErrLastWayIn
	case sourceID != "" && in.SourceID == store.FromAdmin && in.UserID != 0:
		// A grant of a group the admin set: the way in is the person's own source.
		if who, err := a.st.User(ctx, in.UserID); err == nil && who.SourceID == sourceID {
			return ErrLastWayIn
		}
	}
	return nil
}

// GrantsUnconfirmed says why the admin grants need the admin's confirmation ("": they do
// not): the upgrade from a bare admin group could not tell which sources were meant.
func (a *Admin) GrantsUnconfirmed(ctx context.Context) string {
	v, _ := a.st.Meta(ctx, metaGrantsUnconfirmed)
	return v
}

// SourceAdmin is a person whom the admin grants let sign in to the admin.
type SourceAdmin struct {
	User  *store.User
	Grant Grant
}

// SourceAdmins are the people known to the host (every user who signed in once) whom grants
// let sign in to the admin, as of their last login, newest login first.
func (a *Admin) SourceAdmins(ctx context.Context, grants []Grant) ([]SourceAdmin, error) {
	if len(grants) == 0 {
		return nil, nil
	}
	users, err := a.st.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the people the admin grants admit: %w", err)
	}
	var out []SourceAdmin
	for _, u := range users {
		if g := GrantOf(u, grants); g != nil {
			out = append(out, SourceAdmin{User: u, Grant: *g})
		}
	}
	return out, nil
}

// UpgradeGroup turns the bare admin group of an earlier version into admin grants, once
// (every replica may run it; they find the same): one grant of the group per source through
// which someone signed in to the admin with it (the events, and the last such sign-in, which
// keeps an install whose local password is off working). When no one had, or more than one
// source could give the group, the grants are marked as needing the admin's confirmation.
func (a *Admin) UpgradeGroup(ctx context.Context) error {
	group, err := a.st.Meta(ctx, metaAdminGroup)
	if errors.Is(err, store.ErrNotFound) || err == nil && group == "" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("upgrade the admin group: %w", err)
	}
	srcs, err := a.st.Sources(ctx)
	if err != nil {
		return fmt.Errorf("upgrade the admin group: %w", err)
	}
	byID := map[string]*store.Source{}
	for _, s := range srcs {
		byID[s.ID] = s
	}
	// The old code recorded each source sign-in as "through <source> with the admin group %q".
	ids, err := a.st.EventSources(ctx, store.EventAdminLogin, fmt.Sprintf("with the admin group %q", group))
	if err != nil {
		return fmt.Errorf("upgrade the admin group: %w", err)
	}
	last := a.LastSourceSignIn(ctx)
	if last != nil && last.Group == group && last.SourceID == "" {
		if last.SourceID = a.lastSignInSource(ctx, last, srcs); last.SourceID != "" {
			if err := a.RecordSourceSignIn(ctx, *last); err != nil {
				return fmt.Errorf("upgrade the admin group: %w", err)
			}
		}
	}
	if last != nil && last.Group == group && last.SourceID != "" {
		ids = append(ids, last.SourceID)
	}
	grants := []Grant{}
	for _, id := range ids {
		if g := (Grant{SourceID: id, Group: group}); byID[id] != nil && !slices.Contains(grants, g) {
			grants = append(grants, g)
		}
	}
	could, err := a.sourcesGiving(ctx, group, grants, srcs)
	if err != nil {
		return err
	}
	why := ""
	switch {
	case len(grants) == 0:
		why = fmt.Sprintf("the admin group %q of an earlier version matched every source's groups, and no one has signed in to the admin with it: "+
			"no source admin is granted until you name the source", group)
	case len(could) > 1:
		why = fmt.Sprintf("the admin group %q of an earlier version matched every source's groups, and more than one source could give it (%s): "+
			"only %s, through which a source admin signed in, is granted now", group, sourceNames(could, byID), sourceNames(grantSources(grants), byID))
	}
	b, _ := json.Marshal(grants)
	if err := a.st.SetMeta(ctx, metaAdminGrants, string(b)); err != nil {
		return fmt.Errorf("upgrade the admin group: %w", err)
	}
	if err := a.st.SetMeta(ctx, metaGrantsUnconfirmed, why); err != nil {
		return fmt.Errorf("upgrade the admin group: %w", err)
	}
	if err := a.st.SetMeta(ctx, metaAdminGroup, ""); err != nil {
		return fmt.Errorf("upgrade the admin group: %w", err)
	}
	return a.st.AddEvent(ctx, store.Event{Kind: store.EventAdminSecurityChanged,
		Detail: fmt.Sprintf("the admin group %q became the admin grants %s (upgrade)", group, DescribeGrants(grants, byID))})
}

// lastSignInSource is the source of a sign-in recorded before admin grants: its person's
// source, else the only source of its name ("" when neither tells).
func (a *Admin) lastSignInSource(ctx context.Context, in *SourceAdminSignIn, srcs []*store.Source) string {
	if in.UserID != 0 {
		if u, err := a.st.User(ctx, in.UserID); err == nil {
			return u.SourceID
		}
	}
	id := ""
	for _, s := range srcs {
		if s.Name == in.Source {
			if id != "" {
				return ""
			}
			id = s.ID
		}
	}
	return id
}

// sourcesGiving are the ids of the sources that could give group: those of grants, those
// with a person it gave the group, those whose settings name it, and those of a granted
// source's plugin (whose default mapping may give it too).
func (a *Admin) sourcesGiving(ctx context.Context, group string, grants []Grant, srcs []*store.Source) ([]string, error) {
	users, err := a.st.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("upgrade the admin group: %w", err)
	}
	out := grantSources(grants)
	var plugins []string
	for _, s := range srcs {
		if slices.Contains(out, s.ID) {
			plugins = append(plugins, s.PluginID)
		}
	}
	for _, s := range srcs {
		could := slices.Contains(plugins, s.PluginID) || strings.Contains(string(s.Config), group) || strings.Contains(string(s.Draft), group)
		for _, u := range users {
			could = could || u.HasGroupFrom(group, s.ID)
		}
		if could && !slices.Contains(out, s.ID) {
			out = append(out, s.ID)
		}
	}
	return out, nil
}

// grantSources are the sources grants name, each once.
func grantSources(grants []Grant) []string {
	var out []string
	for _, g := range grants {
		if !slices.Contains(out, g.SourceID) {
			out = append(out, g.SourceID)
		}
	}
	return out
}

// AdminSetOrigin names, for the admin, the origin of the groups set by the admin on person
// pages, which a grant may name instead of a source (store.FromAdmin).
const AdminSetOrigin = "set by the admin"

// sourceNames names the sources ids for the admin ("A, B"; AdminSetOrigin for store.FromAdmin).
func sourceNames(ids []string, byID map[string]*store.Source) string {
	var names []string
	for _, id := range ids {
		if id == store.FromAdmin {
			names = append(names, AdminSetOrigin)
		} else if s := byID[id]; s != nil {
			names = append(names, s.Name)
		} else {
			names = append(names, id)
		}
	}
	return strings.Join(names, ", ")
}

// DescribeGrants names grants for events and pages: `"admins" of Home, "ops" set by the admin`, or "none".
func DescribeGrants(grants []Grant, byID map[string]*store.Source) string {
	if len(grants) == 0 {
		return "none"
	}
	var parts []string
	for _, g := range grants {
		if g.SourceID == store.FromAdmin {
			parts = append(parts, fmt.Sprintf("%q %s", g.Group, AdminSetOrigin))
			continue
		}
		parts = append(parts, fmt.Sprintf("%q of %s", g.Group, sourceNames([]string{g.SourceID}, byID)))
	}
	return strings.Join(parts, ", ")
}

// maxGrantPreviews bounds the people whose last sign-in a saved mapping is tried on (one
// plugin call each).
const maxGrantPreviews = 500

// GrantChanges is whom a source's mapping would now make an admin or stop being one through
// a grant that names the source, tried on each person's last sign-in document.
type GrantChanges struct {
	// Source is the source's name.
	Source string
	// Gain, Lose and Unknown name the people who would become admins, would no longer be,
	// and whose sign-in was not tried (none stored, or the plugin could not say).
	Gain, Lose, Unknown []string
}

// GrantChangesOf is what the saved settings of the source sourceID, through its plugin p,
// change of who the admin grants admit (nil when no grant names the source). It takes effect
// at their next sign-in; StillSourceAdmin reads the stored groups until then.
func (a *Admin) GrantChangesOf(ctx context.Context, sourceID string, p *Plugin) (*GrantChanges, error) {
	var groups []string
	for _, g := range a.Grants(ctx) {
		if g.SourceID == sourceID {
			groups = append(groups, g.Group)
		}
	}
	if len(groups) == 0 {
		return nil, nil
	}
	src, err := a.st.Source(ctx, sourceID)
	if err != nil {
		return nil, fmt.Errorf("the source of the admin grants: %w", err)
	}
	users, err := a.st.SourceUsers(ctx, sourceID)
	if err != nil {
		return nil, fmt.Errorf("the people of the admin grants' source: %w", err)
	}
	out := &GrantChanges{Source: src.Name}
	for i, u := range users {
		if u.Disabled {
			continue
		}
		name := NameOf(u.Username, u.Name)
		before := slices.ContainsFunc(groups, func(g string) bool { return u.HasGroupFrom(g, sourceID) })
		if i >= maxGrantPreviews || len(u.PreviewSample) == 0 {
			out.Unknown = append(out.Unknown, name)
			continue
		}
		res, err := p.Process.PreviewMapping(ctx, Instance(src), source.PreviewRequest{Sample: u.PreviewSample})
		if err != nil || len(res.Errors) > 0 {
			out.Unknown = append(out.Unknown, name)
			continue
		}
		after := res.Identity.Decision.Allowed && slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(res.Identity.Groups, g) })
		switch {
		case after && !before:
			out.Gain = append(out.Gain, name)
		case before && !after:
			out.Lose = append(out.Lose, name)
		}
	}
	return out, nil
}
