package host

import (
	"context"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// GlobalOf is src's plugin id when its plugin declares its subjects global (contract 1.6,
// source.CapGlobalSubject): a login's new identity then joins the person another source of
// that plugin knows by the same subject. "" otherwise: each source's subjects stay apart.
func GlobalOf(src *store.Source, p *Plugin) string {
	if p == nil || !p.Desc.Has(source.CapGlobalSubject) {
		return ""
	}
	return src.PluginID
}

// revalidateIdentities re-validates the identities of src joined to people first known
// through another source (each with its own state): a revoked one takes only src's groups
// away and is forgotten until its next login; the person stays.
func (j *Jobs) revalidateIdentities(ctx context.Context, src *store.Source, p *Plugin, every time.Duration) error {
	ids, err := j.store.IdentitiesToCheck(ctx, src.ID, time.Now().Add(-every))
	if err != nil {
		return err
	}
	for _, id := range ids {
		creds, err := j.store.UserCredentials(ctx, id.UserID)
		if err != nil {
			continue // unknown: nothing changes
		}
		rv, err := p.Process.Revalidate(ctx, Instance(src), source.RevalidateRequest{Subject: id.Subject, State: id.Revalidation,
			Credentials: declared(p, creds)})
		if err != nil {
			j.sources.NoteExpired(ctx, src, err)
			continue
		}
		_ = j.store.MarkIdentityChecked(ctx, src.ID, id.Subject)
		if rv.NewState != nil {
			_ = j.store.SetIdentityRevalidation(ctx, src.ID, id.Subject, rv.NewState)
		}
		if rv.Status != source.RevalidationRevoked {
			continue
		}
		u, err := j.store.User(ctx, id.UserID)
		if err != nil {
			continue
		}
		j.leave(ctx, src, u, id.Subject, rv.Decision.ReasonCode)
		j.askFirstSource(ctx, u)
	}
	return nil
}

// askFirstSource re-validates u through the source of their users row at once when u has no
// other identity left: refused there too, they are refused by every source and disabled.
func (j *Jobs) askFirstSource(ctx context.Context, u *store.User) {
	if left, err := j.store.Identities(ctx, u.ID); err != nil || len(left) > 0 {
		return
	}
	src, err := j.store.Source(ctx, u.SourceID)
	if err != nil {
		return
	}
	if p := j.sources.Usable(src); p != nil && p.Desc.Has(source.CapRevalidate) {
		if fresh, err := j.store.User(ctx, u.ID); err == nil {
			j.revalidateUser(ctx, src, p, fresh)
		}
	}
}

// leave takes away the groups src gave u, whom re-validation refused there while another
// source admits them, and records it once.
func (j *Jobs) leave(ctx context.Context, src *store.Source, u *store.User, subject, reason string) {
	if changed, err := j.store.LeaveSource(ctx, u.ID, src.ID); err != nil || !changed {
		return
	}
	_ = j.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.EventUserRevoked, Subject: subject, Name: NameOf(u.Username, u.Name),
		Reason: reason, Detail: "re-validation: access through this source revoked; its groups taken away (another source admits the person)"})
}

// leaveRefusing takes away the groups src gave the person of subject sub, whom src just
// refused, when another source admits them (a person of one source keeps today's rule: the
// refusal lets no one in, and re-validation disables them).
func (l *Logins) leaveRefusing(ctx context.Context, src *store.Source, sub string) {
	id, err := l.store.IdentityOwner(ctx, src.ID, sub)
	if err != nil {
		u, err := l.store.FindUser(ctx, src.ID, sub)
		if err != nil || u.Subject != sub {
			return
		}
		if others, err := l.store.Identities(ctx, u.ID); err != nil || len(others) == 0 {
			return
		}
		id = u.ID
	}
	_, _ = l.store.LeaveSource(ctx, id, src.ID)
}
