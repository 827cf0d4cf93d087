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
// and to all the people of a source when it is deleted.
type People struct {
	store   Store
	sources *Sources
	log     hclog.Logger
}

// NewPeople returns the person actions over st.
func NewPeople(st Store, srcs *Sources, log hclog.Logger) *People {
	return &People{store: st, sources: srcs, log: logger(log)}
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
		err := pl.P.RevokeCredential(ctx, Instance(src), source.Credential{Kind: c.Kind, Value: c.Value})
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

// Delete deletes a user with every session (host, forward-auth), OpenID Connect grant and
// kept credential at once, and signs the credentials out upstream where the plugin can. The
// events about the person stay (the audit trail keeps their name and subject); a login of
// the person later makes a new user, with a new sub.
func (p *People) Delete(ctx context.Context, u *store.User) error {
	creds, err := p.store.UserCredentials(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := p.store.DeleteUser(ctx, u.ID); err != nil {
		return fmt.Errorf("delete user %d: %w", u.ID, err)
	}
	p.revokeUpstream(ctx, u, creds)
	return nil
}

// DeleteSource deletes a source with its users (as Delete does each, in one transaction) and
// its logins under way, signs its users' kept credentials out upstream where its plugin can,
// and records it; events stay. It keeps the admin's last way in (ErrLastWayIn).
func (p *People) DeleteSource(ctx context.Context, src *store.Source) error {
	if err := CheckAdminWayInKept(ctx, p.store, src.ID, nil); err != nil {
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
