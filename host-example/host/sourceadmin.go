package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Source admins: people who sign in to the admin through a source, because an admin grant
// names that source and a group that the source's mapping gave them at their last login
// through it (docs/mappings.md, "Admin grants"). A group of the same name from another
// source, or one an admin gave by hand, matches no grant that does not name its origin.
// Once one has signed in, the local admin password may be turned off; reset-admin-password
// (which only touches the database) turns it on again. The grants themselves, their upgrade
// from a bare group and who they admit are admingrants.go.

// Meta keys of the source admins.
const (
	metaAdminGrants = "admin_grants"           // JSON []Grant
	metaSourceAdmin = "source_admin_signed_in" // JSON SourceAdminSignIn of the last one
)

// ErrNoSourceAdminYet refuses turning the local password off before a source admin signed in.
var ErrNoSourceAdminYet = errors.New("no one has signed in to the admin through a source with a current admin grant yet: " +
	"sign in that way once (in another browser), then turn the password off")

// ErrSourceAdminGone refuses turning the local password off when the person who signed in
// through a source could not any more (disabled, deleted, no longer given a granted group, or the
// source off): the password would be off with no way in but the server's command line.
var ErrSourceAdminGone = errors.New("the last person who signed in to the admin through a source could not do so now " +
	"(disabled, deleted, no longer given the granted group, or the source is off): have a current admin sign in that way first")

// ErrAdminGroupUnset refuses turning the local password off while no admin grant is set.
var ErrAdminGroupUnset = errors.New("no admin grant is set, so no one could sign in to the admin without the password")

// ErrPasswordOff refuses admin grants without the one the last source admin signed in with
// while the local password is off (they could leave no way in but the server's command line).
var ErrPasswordOff = errors.New("the local password is off: keep the admin grant the last source admin signed in with, " +
	"or turn the password on again first")

// Grant lets the people to whom one source's mapping gives one group sign in to the admin
// through that source.
type Grant struct {
	SourceID string `json:"source"`
	Group    string `json:"group"`
}

// AdminGrants are the admin grants (none: nobody signs in to the admin through a source).
func AdminGrants(ctx context.Context, st AdminStore) []Grant {
	v, _ := st.Meta(ctx, metaAdminGrants)
	var gs []Grant
	if v != "" && json.Unmarshal([]byte(v), &gs) != nil {
		return nil
	}
	return gs
}

// IsSourceAdmin reports whether u may sign in to the admin: not disabled, and the mapping of
// a granted source gave it that grant's group at its last login through that source.
func IsSourceAdmin(u *store.User, grants []Grant) bool { return GrantOf(u, grants) != nil }

// GrantOf is the first of grants that lets u sign in to the admin, or nil.
func GrantOf(u *store.User, grants []Grant) *Grant {
	if u == nil || u.Disabled {
		return nil
	}
	for _, g := range grants {
		if g.Group != "" && g.SourceID != "" && u.HasGroupFrom(g.Group, g.SourceID) {
			return &g
		}
	}
	return nil
}

// SourceAdminSignIn is a successful admin sign-in through a source.
type SourceAdminSignIn struct {
	// UserID is the person's user id (0 in records from before it was kept).
	UserID int64 `json:"user_id,omitempty"`
	// SourceID and Group are the grant the person signed in with (SourceID "" in records
	// from before admin grants, until UpgradeAdminGroup fills it in).
	SourceID string    `json:"source_id,omitempty"`
	Group    string    `json:"group"`
	Name     string    `json:"name"`
	Source   string    `json:"source"`
	At       time.Time `json:"at"`
}

// Grant is the grant of the sign-in.
func (in SourceAdminSignIn) Grant() Grant { return Grant{SourceID: in.SourceID, Group: in.Group} }

// RecordSourceAdminSignIn keeps in as the last admin sign-in through a source.
func RecordSourceAdminSignIn(ctx context.Context, st AdminStore, in SourceAdminSignIn) error {
	b, _ := json.Marshal(in)
	return st.SetMeta(ctx, metaSourceAdmin, string(b))
}

// LastSourceAdminSignIn is the last admin sign-in through a source, or nil.
func LastSourceAdminSignIn(ctx context.Context, st AdminStore) *SourceAdminSignIn {
	v, err := st.Meta(ctx, metaSourceAdmin)
	if err != nil || v == "" {
		return nil
	}
	var in SourceAdminSignIn
	if json.Unmarshal([]byte(v), &in) != nil {
		return nil
	}
	return &in
}

// TurnOffAdminPassword removes the local admin password, once someone has signed in to the
// admin through a source with a current admin grant and, as canStill says of that sign-in
// now, could do so again (nil: not asked). Its TOTP stays: it is the proof that turning the
// password on again asks for, and the login asks for it again once the password is on.
func TurnOffAdminPassword(ctx context.Context, st AdminStore, canStill func(SourceAdminSignIn) bool) error {
	grants := AdminGrants(ctx, st)
	if len(grants) == 0 {
		return ErrAdminGroupUnset
	}
	in := LastSourceAdminSignIn(ctx, st)
	if in == nil || !slices.Contains(grants, in.Grant()) {
		return ErrNoSourceAdminYet
	}
	if canStill != nil && !canStill(*in) {
		return ErrSourceAdminGone
	}
	if err := st.SetMeta(ctx, metaAdminOff, "1"); err != nil {
		return fmt.Errorf("turn the admin password off: %w", err)
	}
	if err := st.SetMeta(ctx, metaAdminHash, ""); err != nil {
		return fmt.Errorf("turn the admin password off: %w", err)
	}
	return nil
}
