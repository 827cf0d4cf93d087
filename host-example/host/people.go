package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// People is what the host does to a person as a whole: disable, sign out everywhere, delete;
// to all the people of a source when it is deleted; the admin's actions on one person (with
// their audit events); and what the pages read of people (person.go).
type People struct {
	store   Store
	sources *Sources
	events  *Events
	log     hclog.Logger
}

// NewPeople returns the person actions over st.
func NewPeople(st Store, srcs *Sources, log hclog.Logger) *People {
	return &People{store: st, sources: srcs, events: NewEvents(st), log: logger(log)}
}

// Get is the person of id (store.ErrNotFound when there is none).
func (p *People) Get(ctx context.Context, id int64) (*store.User, error) {
	u, err := p.store.User(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("person %d: %w", id, err)
	}
	return u, nil
}

// Disable disables a user (reason: store.DisabledBy*), ending every session and grant, and
// signs the user's handed-over credentials out upstream where the plugin can.
func (p *People) Disable(ctx context.Context, u *store.User, reason string) error {
	creds, err := p.store.UserCredentials(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := p.store.SetDisabled(ctx, u.ID, true, reason); err != nil {
		return err
	}
	p.revokeUpstream(ctx, u, creds)
	return nil
}

// SignOutEverywhere ends every session and grant of a user and signs the user's handed-over
// credentials out upstream where the plugin can; the user may sign in again.
func (p *People) SignOutEverywhere(ctx context.Context, u *store.User) error {
	creds, err := p.store.UserCredentials(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := p.store.SignOutEverywhere(ctx, u.ID); err != nil {
		return err
	}
	p.revokeUpstream(ctx, u, creds)
	return nil
}

// SignOutOwnEverywhere is a person's own "sign out everywhere" (from their profile): every
// session and grant of userID ends as SignOutEverywhere ends them, with the person's event.
func (p *People) SignOutOwnEverywhere(ctx context.Context, userID int64) error {
	u, err := p.Get(ctx, userID)
	if err != nil {
		return err
	}
	if err := p.SignOutEverywhere(ctx, u); err != nil {
		p.log.Error("sign out everywhere", "error", err)
		return fmt.Errorf("sign out everywhere: %w", err)
	}
	_ = p.store.AddEvent(ctx, store.Event{SourceID: u.SourceID, Kind: store.EventSignedOutEverywhere, Subject: u.Subject,
		Name: NameOf(u.Username, u.Name)})
	return nil
}

// revokeUpstream asks the user's plugin to sign creds out upstream (already deleted here);
// a failure is logged: a copy handed to a browser then lives until signed out upstream.
func (p *People) revokeUpstream(ctx context.Context, u *store.User, creds []store.Credential) {
	if len(creds) == 0 {
		return
	}
	src, err := p.store.Source(ctx, u.SourceID)
	if err != nil {
		return
	}
	p.revokeUpstreamOf(ctx, src, u, creds)
}

// revokeUpstreamOf is revokeUpstream for a user of src (which may be deleted by now).
func (p *People) revokeUpstreamOf(ctx context.Context, src *store.Source, u *store.User, creds []store.Credential) {
	if len(creds) == 0 {
		return
	}
	pl := p.sources.plugins.Get(src.PluginID)
	if pl == nil || !pl.Desc.Has(source.CapCredentials) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	for _, c := range creds {
		err := pl.Process.RevokeCredential(ctx, Instance(src), source.Credential{Kind: c.Kind, Value: c.Value})
		switch {
		case err == nil:
			_ = p.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.EventCredentialRevoked, Subject: u.Subject,
				Name: NameOf(u.Username, u.Name), Detail: c.Kind + " signed out upstream"})
		case errors.Is(err, source.ErrUnimplemented):
		default:
			p.log.Warn("sign a handed-over credential out upstream", "source", src.ID, "kind", c.Kind, "error", err)
		}
	}
}

// Delete is the admin deleting a user with every session (host, forward-auth), OpenID
// Connect grant and kept credential at once, signing the credentials out upstream where the
// plugin can, and recording it; ErrLastWayIn when u is the admin's last way in. The events
// about the person stay (the audit trail keeps their name and subject); a login of the
// person later makes a new user, with a new sub.
func (p *People) Delete(ctx context.Context, u *store.User) error {
	if err := NewAdmin(p.store, p.sources).CheckWayInKept(ctx, "", u); err != nil {
		return err
	}
	creds, err := p.store.UserCredentials(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := p.store.DeleteUser(ctx, u.ID); err != nil {
		return fmt.Errorf("delete user %d: %w", u.ID, err)
	}
	p.revokeUpstream(ctx, u, creds)
	p.adminEvent(ctx, u, store.EventAdminUserDeleted, "deleted by the admin: sessions, app access and kept credentials ended")
	return nil
}

// ErrRetired is returned by SetDisabled for a person the admin linked into another.
var ErrRetired = errors.New("this person was linked into another and is retired")

// SetDisabled is the admin turning u off (Disable, for store.DisabledByAdmin) or on again,
// recorded; turning off the admin's last way in is refused with ErrLastWayIn.
func (p *People) SetDisabled(ctx context.Context, u *store.User, disable bool) error {
	if u.LinkedTo != 0 {
		return ErrRetired
	}
	kind := store.EventAdminUserEnabled
	if disable {
		if err := NewAdmin(p.store, p.sources).CheckWayInKept(ctx, "", u); err != nil {
			return err
		}
		kind = store.EventAdminUserDisabled
	}
	p.adminEvent(ctx, u, kind, "")
	if disable {
		return p.Disable(ctx, u, store.DisabledByAdmin)
	}
	if err := p.store.SetDisabled(ctx, u.ID, false, store.DisabledByAdmin); err != nil {
		return fmt.Errorf("enable user %d: %w", u.ID, err)
	}
	return nil
}

// SignOutByAdmin is SignOutEverywhere done by the admin, recorded.
func (p *People) SignOutByAdmin(ctx context.Context, u *store.User) error {
	if err := p.SignOutEverywhere(ctx, u); err != nil {
		return fmt.Errorf("sign user %d out everywhere: %w", u.ID, err)
	}
	p.adminEvent(ctx, u, store.EventAdminAccessRevoked, "signed out everywhere by the admin")
	return nil
}

// sessionWords name the kinds of sessions in the admin's events.
var sessionWords = map[store.SessionKind]string{store.HostSession: "sign-in", store.ForwardAuthSession: "protected apps"}

// EndSession is the admin ending one session of u (ref: its name on the admin's pages),
// recorded; store.ErrNotFound when it had already ended.
func (p *People) EndSession(ctx context.Context, u *store.User, kind store.SessionKind, ref string) error {
	if err := p.store.EndUserSession(ctx, u.ID, kind, ref); err != nil {
		return fmt.Errorf("end a %s session of user %d: %w", kind, u.ID, err)
	}
	p.adminEvent(ctx, u, store.EventAdminAccessRevoked, fmt.Sprintf("a %s session ended by the admin", sessionWords[kind]))
	return nil
}

// EndOwnSession is a person ending one of their own sessions from their profile (kind and
// ref as UserSessions names them: a device, or their protected apps in a browser), recorded;
// store.ErrNotFound when it had already ended or is not theirs.
func (p *People) EndOwnSession(ctx context.Context, u *store.User, kind store.SessionKind, ref string) error {
	if err := p.store.EndUserSession(ctx, u.ID, kind, ref); err != nil {
		return fmt.Errorf("end a %s session of user %d: %w", kind, u.ID, err)
	}
	p.ownEvent(ctx, u, fmt.Sprintf("a %s session, from their profile", sessionWords[kind]))
	return nil
}

// EndOwnGrant is a person ending one app's access from their profile (its tokens stop
// working), recorded; store.ErrNotFound when it was already gone or is not theirs.
func (p *People) EndOwnGrant(ctx context.Context, u *store.User, grantID string) error {
	if err := p.store.RevokeUserGrant(ctx, u.ID, grantID); err != nil {
		return fmt.Errorf("end grant %s of user %d: %w", grantID, u.ID, err)
	}
	p.ownEvent(ctx, u, "an app's access (OpenID Connect grant), from their profile")
	return nil
}

// ownEvent records what a person ended of their own.
func (p *People) ownEvent(ctx context.Context, u *store.User, detail string) {
	_ = p.store.AddEvent(ctx, store.Event{SourceID: u.SourceID, Kind: store.EventSessionEnded, Subject: u.Subject,
		Name: NameOf(u.Username, u.Name), Detail: detail})
}

// RevokeGrant is the admin revoking one app grant of u (its tokens stop working), recorded;
// store.ErrNotFound when it was already gone.
func (p *People) RevokeGrant(ctx context.Context, u *store.User, grantID string) error {
	if err := p.store.RevokeUserGrant(ctx, u.ID, grantID); err != nil {
		return fmt.Errorf("revoke grant %s of user %d: %w", grantID, u.ID, err)
	}
	p.adminEvent(ctx, u, store.EventAdminAccessRevoked, "an app's access (OpenID Connect grant) revoked by the admin")
	return nil
}

// adminEvent records what the admin did to a person.
func (p *People) adminEvent(ctx context.Context, u *store.User, kind store.EventKind, detail string) {
	_ = p.store.AddEvent(ctx, store.Event{SourceID: u.SourceID, Kind: kind, Subject: u.Subject,
		Name: NameOf(u.Username, u.Name), Detail: detail})
}

// DeleteSource deletes a source with its users (as Delete does each, in one transaction) and
// its logins under way, signs its users' kept credentials out upstream where its plugin can,
// and records it; events stay. It keeps the admin's last way in (ErrLastWayIn).
func (p *People) DeleteSource(ctx context.Context, src *store.Source) error {
	if err := NewAdmin(p.store, p.sources).CheckWayInKept(ctx, src.ID, nil); err != nil {
		return err
	}
	use, _ := p.store.SourceUsage(ctx, src.ID)
	if err := p.deleteSource(ctx, src); err != nil {
		return err
	}
	_ = p.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.EventAdminSourceDeleted,
		Detail: fmt.Sprintf("%s (%s) deleted with its %s", src.Name, src.PluginID, peopleCount(use.Users))})
	return nil
}

// deleteSource deletes src with its users and signs their kept credentials out upstream.
func (p *People) deleteSource(ctx context.Context, src *store.Source) error {
	users, err := p.store.SourceUsers(ctx, src.ID)
	if err != nil {
		return fmt.Errorf("list the users of source %s: %w", src.ID, err)
	}
	kept := map[*store.User][]store.Credential{}
	for _, u := range users {
		if kept[u], err = p.store.UserCredentials(ctx, u.ID); err != nil {
			return err
		}
	}
	if err := p.store.DeleteSource(ctx, src.ID); err != nil {
		return fmt.Errorf("delete source %s: %w", src.ID, err)
	}
	for u, creds := range kept {
		p.revokeUpstreamOf(ctx, src, u, creds)
	}
	return nil
}

// peopleCount is n people in words ("1 person", "3 people"), as the admin's events say it.
func peopleCount(n int) string {
	if n == 1 {
		return "1 person"
	}
	return fmt.Sprintf("%d people", n)
}
