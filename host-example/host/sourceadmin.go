package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Source admins: people who sign in to the admin through a source, because the mapping of
// their last login gave them the admin group (docs/mappings.md, "An admin group"). Once one
// has signed in, the local admin password may be turned off; reset-admin-password (which
// only touches the database) turns it on again.

// Meta keys of the source admins.
const (
	metaAdminGroup  = "admin_group"
	metaSourceAdmin = "source_admin_signed_in" // JSON SourceAdminSignIn of the last one
)

// ErrNoSourceAdminYet refuses turning the local password off before a source admin signed in.
var ErrNoSourceAdminYet = errors.New("no one has signed in to the admin through a source with the admin group yet: " +
	"sign in that way once (in another browser), then turn the password off")

// ErrSourceAdminGone refuses turning the local password off when the person who signed in
// through a source could not any more (disabled, deleted, out of the admin group, or the
// source off): the password would be off with no way in but the server's command line.
var ErrSourceAdminGone = errors.New("the last person who signed in to the admin through a source could not do so now " +
	"(disabled, deleted, no longer in the admin group, or the source is off): have a current admin sign in that way first")

// ErrAdminGroupUnset refuses turning the local password off while no admin group is set.
var ErrAdminGroupUnset = errors.New("no admin group is set, so no one could sign in to the admin without the password")

// ErrPasswordOff refuses changing the admin group while the local password is off (it could
// leave no way in but the server's command line).
var ErrPasswordOff = errors.New("the local password is off: turn it on again before changing the admin group")

// AdminGroup is the group whose members may sign in to the admin through their source ("": nobody).
func AdminGroup(ctx context.Context, st AdminStore) string {
	g, _ := st.Meta(ctx, metaAdminGroup)
	return g
}

// SetAdminGroup sets the admin group ("" lets nobody in through a source); refused while
// the local password is off.
func SetAdminGroup(ctx context.Context, st AdminStore, group string) error {
	group = strings.TrimSpace(group)
	if group == AdminGroup(ctx, st) {
		return nil
	}
	if !AdminPasswordOn(ctx, st) {
		return ErrPasswordOff
	}
	if err := st.SetMeta(ctx, metaAdminGroup, group); err != nil {
		return fmt.Errorf("set the admin group: %w", err)
	}
	return nil
}

// IsSourceAdmin reports whether u may sign in to the admin: not disabled, and the last login
// gave it group (not empty).
func IsSourceAdmin(u *store.User, group string) bool {
	return u != nil && group != "" && !u.Disabled && slices.Contains(u.Groups, group)
}

// SourceAdminSignIn is a successful admin sign-in through a source.
type SourceAdminSignIn struct {
	// UserID is the person's user id (0 in records from before it was kept).
	UserID int64     `json:"user_id,omitempty"`
	Group  string    `json:"group"`
	Name   string    `json:"name"`
	Source string    `json:"source"`
	At     time.Time `json:"at"`
}

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

// TurnOffAdminPassword removes the local admin password, once a member of the current admin
// group has signed in to the admin through a source and, as canStill says of that sign-in
// now, could do so again (nil: not asked). Its TOTP stays: it is the proof that turning the
// password on again asks for, and the login asks for it again once the password is on.
func TurnOffAdminPassword(ctx context.Context, st AdminStore, canStill func(SourceAdminSignIn) bool) error {
	g := AdminGroup(ctx, st)
	if g == "" {
		return ErrAdminGroupUnset
	}
	in := LastSourceAdminSignIn(ctx, st)
	if in == nil || in.Group != g {
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
