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

// Grants are the admin grants (none: nobody signs in to the admin through a source).
func (a *Admin) Grants(ctx context.Context) []Grant {
	v, _ := a.st.Meta(ctx, metaAdminGrants)
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
	// from before admin grants, until UpgradeGroup fills it in).
	SourceID string    `json:"source_id,omitempty"`
	Group    string    `json:"group"`
	Name     string    `json:"name"`
	Source   string    `json:"source"`
	At       time.Time `json:"at"`
}

// Grant is the grant of the sign-in.
func (in SourceAdminSignIn) Grant() Grant { return Grant{SourceID: in.SourceID, Group: in.Group} }

// RecordSourceSignIn keeps in as the last admin sign-in through a source.
func (a *Admin) RecordSourceSignIn(ctx context.Context, in SourceAdminSignIn) error {
	b, _ := json.Marshal(in)
	return a.st.SetMeta(ctx, metaSourceAdmin, string(b))
}

// LastSourceSignIn is the last admin sign-in through a source, or nil.
func (a *Admin) LastSourceSignIn(ctx context.Context) *SourceAdminSignIn {
	v, err := a.st.Meta(ctx, metaSourceAdmin)
	if err != nil || v == "" {
		return nil
	}
	var in SourceAdminSignIn
	if json.Unmarshal([]byte(v), &in) != nil {
		return nil
	}
	return &in
}

// TurnOffPassword removes the local admin password, once someone has signed in to the
// admin through a source with a current admin grant and, as canStill says of that sign-in
// now, could do so again (nil: not asked). Its TOTP stays: it is the proof that turning the
// password on again asks for, and the login asks for it again once the password is on.
func (a *Admin) TurnOffPassword(ctx context.Context, canStill func(SourceAdminSignIn) bool) error {
	grants := a.Grants(ctx)
	if len(grants) == 0 {
		return ErrAdminGroupUnset
	}
	in := a.LastSourceSignIn(ctx)
	if in == nil || !slices.Contains(grants, in.Grant()) {
		return ErrNoSourceAdminYet
	}
	if canStill != nil && !canStill(*in) {
		return ErrSourceAdminGone
	}
	if err := a.st.SetMeta(ctx, metaAdminOff, "1"); err != nil {
		return fmt.Errorf("turn the admin password off: %w", err)
	}
	if err := a.st.SetMeta(ctx, metaAdminHash, ""); err != nil {
		return fmt.Errorf("turn the admin password off: %w", err)
	}
	return nil
}

// ErrNotSourceAdmin refuses a sign-in through a source that no admin grant admits (recorded).
var ErrNotSourceAdmin = errors.New("the sign-in did not give a group an admin grant names for its source")

// SourceAdminOf is a person who signed in through a source whom an admin grant admits.
type SourceAdminOf struct {
	User   *store.User
	Source *store.Source
	Grant  Grant
	// Name is the person's name as the pages and events show it.
	Name string
}

// SourceAdmin is the person userID, who signed in at signedIn, as a source admin:
// store.ErrNotFound when they are gone, ErrNotSourceAdmin (recorded as a failed admin sign-in
// from clientIP; the result still names them) when no current grant admits them, their source
// is not usable, or (a person of several sources) the grant's source gave its group at no
// sign-in since signedIn: a sign-in through another source opens no grant of the first.
func (a *Admin) SourceAdmin(ctx context.Context, userID int64, signedIn time.Time, clientIP string) (SourceAdminOf, error) {
	u, err := a.st.User(ctx, userID)
	if err != nil {
		return SourceAdminOf{}, fmt.Errorf("the person of a source admin's sign-in: %w", err)
	}
	src, _ := a.st.Source(ctx, u.SourceID)
	out := SourceAdminOf{User: u, Source: src, Name: NameOf(u.Username, u.Name)}
	grant := GrantOf(u, a.Grants(ctx))
	if grant == nil || !a.usable(src) || !a.grantGivenSince(ctx, u, *grant, signedIn) {
		_ = a.st.AddEvent(ctx, store.Event{SourceID: u.SourceID, Kind: store.EventAdminLoginFailed, Subject: u.Subject, Name: out.Name,
			Detail: fmt.Sprintf("signed in through a source without a group an admin grant names for it; client %s", clientIP)})
		return out, ErrNotSourceAdmin
	}
	out.Grant = *grant
	return out, nil
}

// SourceAdminSignedIn records the admin sign-in through a source of in, whose admin session
// was just made: as the last one (the error, logged by the caller, does not undo the
// sign-in) and as an event.
func (a *Admin) SourceAdminSignedIn(ctx context.Context, in SourceAdminOf, clientIP string, now time.Time) error {
	err := a.RecordSourceSignIn(ctx, SourceAdminSignIn{UserID: in.User.ID, SourceID: in.Grant.SourceID, Group: in.Grant.Group, Name: in.Name,
		Source: in.Source.Name, At: now})
	_ = a.st.AddEvent(ctx, store.Event{SourceID: in.User.SourceID, Kind: store.EventAdminLogin, Subject: in.User.Subject, Name: in.Name,
		Detail: fmt.Sprintf("through %s with the admin grant of its group %q; client %s", in.Source.Name, in.Grant.Group, clientIP)})
	if err != nil {
		return fmt.Errorf("record a source admin's sign-in: %w", err)
	}
	return nil
}

// StillSourceAdmin reports whether an admin session begun through a source by the person
// userID (0: the local admin's, always) is still one: the person is not disabled and a
// current admin grant still admits them.
func (a *Admin) StillSourceAdmin(ctx context.Context, userID int64) bool {
	if userID == 0 {
		return true
	}
	u, err := a.st.User(ctx, userID)
	return err == nil && IsSourceAdmin(u, a.Grants(ctx))
}

// TurnOffPasswordNow is TurnOffPassword asking whether the last source admin could sign in
// now: the person not disabled nor gone, their source usable, the grant still theirs.
func (a *Admin) TurnOffPasswordNow(ctx context.Context) error {
	return a.TurnOffPassword(ctx, func(in SourceAdminSignIn) bool {
		u, err := a.st.User(ctx, in.UserID)
		if err != nil {
			return false
		}
		src, err := a.st.Source(ctx, u.SourceID)
		return err == nil && a.usable(src) && IsSourceAdmin(u, []Grant{in.Grant()})
	})
}

// grantGivenSince reports whether the grant's source gave u its group at a sign-in at or after
// signedIn (its login event): always for a person of one source, whose every sign-in is
// through it; a person of several sources (issue 31 §3) keeps each source's groups across
// sign-ins through the others, so a fresh sign-in proves the grant only when it went through
// the grant's source.
func (a *Admin) grantGivenSince(ctx context.Context, u *store.User, g Grant, signedIn time.Time) bool {
	ids, err := a.st.Identities(ctx, u.ID)
	if err != nil {
		return false
	}
	if len(ids) == 0 {
		return true
	}
	evs, err := a.st.UserEvents(ctx, g.SourceID, u.Subject, 20)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(evs, func(e store.Event) bool {
		return e.Kind == store.EventLoginAllowed && !e.At.Before(signedIn.Truncate(time.Second))
	})
}
