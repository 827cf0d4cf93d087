package host

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The groups the admin sets of one person by hand on their page: kept with the origin
// store.FromAdmin (a login recomputes its source's groups and never drops these).
//
// An admin-set group admits to apps (AppAdmits reads every group a person holds) but opens
// the admin only through a grant that names the origin "set by the admin"; giving or taking
// such a group is a change of the admin's ways in (ChangeWaysIn: proof, event, banner).

// Group names the admin types.
const (
	maxGroupName   = 100
	maxAdminGroups = 50
)

// ErrBadGroup refuses a group name apps could not receive whole.
var ErrBadGroup = fmt.Errorf("a group name is 1 to %d characters, without a comma (forward-auth's Remote-Groups separates groups with commas) "+
	"or a control character", maxGroupName)

// ErrTooManyGroups refuses a group beyond maxAdminGroups for one person.
var ErrTooManyGroups = fmt.Errorf("a person has at most %d groups set by the admin", maxAdminGroups)

// CleanGroupName is a group name the admin typed, trimmed; ErrBadGroup when apps could not
// receive it whole.
func CleanGroupName(g string) (string, error) {
	g = strings.TrimSpace(g)
	if g == "" || utf8.RuneCountInString(g) > maxGroupName || strings.ContainsRune(g, ',') ||
		strings.ContainsFunc(g, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return "", ErrBadGroup
	}
	return g, nil
}

// GroupChange is the admin giving a person one group (Add) or taking one they gave away
// (Remove); one of the two is set.
type GroupChange struct{ Add, Remove string }

// GrantsAdminGroup reports whether an admin grant names group as set by the admin: a person
// given it may open the admin.
func GrantsAdminGroup(grants []Grant, group string) bool {
	return slices.Contains(grants, Grant{SourceID: store.FromAdmin, Group: group})
}

// ChangeAdminGroup gives u a group or takes one the admin gave away (c), recorded on the
// person; false when nothing changed (given already, or not given). A group an admin grant
// names as set by the admin changes the admin's ways in: it needs p's proof of the current
// admin (an *ErrProof when refused) and is recorded as such; taking away the group the last
// source admin signed in with while the local password is off is ErrLastWayIn.
func (p *People) ChangeAdminGroup(ctx context.Context, u *store.User, c GroupChange, proof Proof) (bool, error) {
	groups := u.AdminGroups()
	group, detail := "", ""
	switch {
	case c.Add != "":
		g, err := CleanGroupName(c.Add)
		if err != nil {
			return false, err
		}
		if slices.Contains(groups, g) {
			return false, nil
		}
		if len(groups) >= maxAdminGroups {
			return false, ErrTooManyGroups
		}
		group, groups, detail = g, append(groups, g), fmt.Sprintf("given the group %q by the admin", g)
	case c.Remove != "":
		i := slices.Index(groups, strings.TrimSpace(c.Remove))
		if i < 0 {
			return false, nil
		}
		group = groups[i]
		groups, detail = slices.Delete(groups, i, i+1), fmt.Sprintf("the group %q the admin gave taken away", group)
	default:
		return false, nil
	}
	adm := NewAdmin(p.store, p.sources)
	write := func(ctx context.Context) error {
		if err := p.store.SetAdminGroups(ctx, u.ID, groups); err != nil {
			return fmt.Errorf("set the groups of person %d: %w", u.ID, err)
		}
		p.adminEvent(ctx, u, store.EventAdminUserChanged, detail)
		return nil
	}
	if !GrantsAdminGroup(adm.Grants(ctx), group) {
		return true, write(ctx)
	}
	if c.Remove != "" && !adm.PasswordOn(ctx) {
		if in := adm.LastSourceSignIn(ctx); in != nil && in.UserID == u.ID && in.Grant() == (Grant{SourceID: store.FromAdmin, Group: group}) {
			return false, ErrLastWayIn
		}
	}
	err := adm.ChangeWaysIn(ctx, proof, func(ctx context.Context) (WaysInChange, error) {
		if err := write(ctx); err != nil {
			return WaysInChange{}, err
		}
		return WaysInChange{What: fmt.Sprintf("%s (user %d) %s, which an admin grant names", NameOf(u.Username, u.Name), u.ID, detail)}, nil
	})
	return err == nil, err
}
