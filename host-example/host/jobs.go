package host

import (
	"context"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Jobs are the host's background work: re-validation, health checks and purges.
type Jobs struct {
	store   Store
	sources *Sources
	people  *People
}

// NewJobs returns the jobs over st's sources.
func NewJobs(st Store, srcs *Sources, people *People) *Jobs {
	return &Jobs{store: st, sources: srcs, people: people}
}

// Revalidate asks each plugin about every user of its enabled sources not checked within
// every: revoked disables the user (ending sessions), unknown changes nothing.
func (j *Jobs) Revalidate(ctx context.Context, every time.Duration) error {
	srcs, err := j.store.Sources(ctx)
	if err != nil {
		return err
	}
	for _, src := range srcs {
		p := j.sources.Usable(src)
		if p == nil || !p.Desc.Has(source.CapRevalidate) {
			continue
		}
		users, err := j.store.UsersToCheck(ctx, src.ID, time.Now().Add(-every))
		if err != nil {
			return err
		}
		for _, u := range users {
			j.revalidateUser(ctx, src, p, u)
		}
		if err := j.revalidateIdentities(ctx, src, p, every); err != nil {
			return err
		}
	}
	return nil
}

// revalidateUser asks src's plugin p about the person u of src's users row: revoked disables
// them (ending sessions) unless another source admits them, when only src's groups go.
func (j *Jobs) revalidateUser(ctx context.Context, src *store.Source, p *Plugin, u *store.User) {
	creds, err := j.store.UserCredentials(ctx, u.ID)
	if err != nil {
		return // unknown: nothing changes
	}
	rv, err := p.Process.Revalidate(ctx, Instance(src), source.RevalidateRequest{Subject: u.Subject, State: u.Revalidation,
		Credentials: declared(p, creds)})
	if err != nil {
		j.sources.NoteExpired(ctx, src, err)
		return // unknown: nothing changes
	}
	_ = j.store.MarkChecked(ctx, u.ID)
	if rv.NewState != nil {
		_ = j.store.SetRevalidation(ctx, u.ID, rv.NewState)
	}
	if len(rv.RefusedCredentials) > 0 {
		_ = j.store.DeleteUserCredentials(ctx, u.ID, rv.RefusedCredentials...)
	}
	if rv.Status != source.RevalidationRevoked || u.Disabled {
		return
	}
	if others, err := j.store.Identities(ctx, u.ID); err != nil {
		return // unknown: nothing changes
	} else if len(others) > 0 { // another source admits the person: only this one's groups go
		j.leave(ctx, src, u, u.Subject, rv.Decision.ReasonCode)
		return
	}
	_ = j.people.Disable(ctx, u, store.DisabledByRevalidation)
	_ = j.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.EventUserRevoked, Subject: u.Subject, Name: NameOf(u.Username, u.Name),
		Reason: rv.Decision.ReasonCode,
		Detail: "re-validation: access revoked; user disabled and sessions ended"})
}

// CheckHealth runs each plugin's health actions and records one event per state change
// (once of all replicas).
func (j *Jobs) CheckHealth(ctx context.Context) error {
	srcs, err := j.store.Sources(ctx)
	if err != nil {
		return err
	}
	for _, src := range srcs {
		p := j.sources.Usable(src)
		if p == nil {
			continue
		}
		for _, a := range p.Schema.Actions {
			if !a.Health {
				continue
			}
			res, err := p.Process.RunAction(ctx, Instance(src), source.ActionRequest{ActionID: a.ID})
			j.sources.NoteExpired(ctx, src, err)
			state := HealthUnknown
			if err == nil && res.Message != nil {
				state = map[string]string{"info": HealthValid, "error": HealthRevoked}[res.Message.Level]
				if state == "" {
					state = HealthUnknown
				}
			}
			// Every replica runs the checks; the one whose write changes the state records it.
			if changed, err := j.store.ChangeMeta(ctx, healthKey(src.ID, a.ID), state); err != nil || !changed {
				continue
			}
			detail := ""
			if res.Message != nil {
				detail = res.Message.Text
			}
			_ = j.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.HealthEvent(a.ID), Reason: state, Detail: detail})
		}
	}
	return nil
}

// Run runs health checks, re-validation and purges every interval until ctx ends; it
// starts once the plugins are ready. Health checks run on every replica (each has its own
// plugin processes); re-validation and purges are database-wide and run on one replica at a
// time (RunAlone): a replica that finds them running elsewhere skips that round.
func (j *Jobs) Run(ctx context.Context, every time.Duration) {
	if j.sources.plugins.Wait(ctx) != nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_ = j.CheckHealth(ctx)
		_, _ = j.store.RunAlone(ctx, "revalidate-and-purge", func(ctx context.Context) {
			_ = j.Revalidate(ctx, every)
			_, _ = j.store.Purge(ctx)
		})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
