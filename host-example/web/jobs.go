package web

import (
	"context"
	"path/filepath"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

func filepathGlob(dir string) ([]string, error) {
	direct, _ := filepath.Glob(filepath.Join(dir, "plugin.json"))
	nested, _ := filepath.Glob(filepath.Join(dir, "*", "plugin.json"))
	return append(direct, nested...), nil
}

// Revalidate asks each plugin about every user of its enabled sources not checked within
// every: revoked disables the user (ending sessions), unknown changes nothing.
func (s *Server) Revalidate(ctx context.Context, every time.Duration) error {
	srcs, err := s.store.Sources(ctx)
	if err != nil {
		return err
	}
	for _, src := range srcs {
		p := s.usable(src)
		if p == nil || !p.Desc.Has(source.CapRevalidate) {
			continue
		}
		users, err := s.store.UsersToCheck(ctx, src.ID, time.Now().Add(-every))
		if err != nil {
			return err
		}
		for _, u := range users {
			rv, err := p.P.Revalidate(ctx, instanceOf(src), source.RevalidateRequest{Subject: u.Subject, State: u.Revalidation})
			if err != nil {
				continue // unknown: nothing changes
			}
			_ = s.store.MarkChecked(ctx, u.ID)
			if rv.Status == source.RevalidationRevoked && !u.Disabled {
				_ = s.store.SetDisabled(ctx, u.ID, true, store.DisabledByRevalidation)
				_ = s.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: "user_revoked", Subject: u.Subject, Name: nameOf(u.Username, u.Name),
					Reason: rv.Decision.ReasonCode,
					Detail: "re-validation: access revoked; user disabled and sessions ended"})
			}
		}
	}
	return nil
}

// CheckHealth runs each plugin's health actions and records one event per state change.
func (s *Server) CheckHealth(ctx context.Context) error {
	srcs, err := s.store.Sources(ctx)
	if err != nil {
		return err
	}
	for _, src := range srcs {
		p := s.usable(src)
		if p == nil {
			continue
		}
		for _, a := range p.Schema.Actions {
			if !a.Health {
				continue
			}
			res, err := p.P.RunAction(ctx, instanceOf(src), source.ActionRequest{ActionID: a.ID})
			state := "unknown"
			if err == nil && res.Message != nil {
				state = map[string]string{"info": "valid", "error": "revoked"}[res.Message.Level]
				if state == "" {
					state = "unknown"
				}
			}
			key := "health:" + src.ID + ":" + a.ID
			prev, _ := s.store.Meta(ctx, key)
			if prev == state {
				continue
			}
			_ = s.store.SetMeta(ctx, key, state)
			detail := ""
			if res.Message != nil {
				detail = res.Message.Text
			}
			_ = s.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.HealthEvent(a.ID), Reason: state, Detail: detail})
		}
	}
	return nil
}

// RunJobs runs re-validation, health checks and purges until ctx ends.
func (s *Server) RunJobs(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_ = s.CheckHealth(ctx)
		_ = s.Revalidate(ctx, every)
		_, _ = s.store.Purge(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
