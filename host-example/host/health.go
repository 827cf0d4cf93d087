package host

import (
	"context"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// The health checks of sources (a plugin's actions marked health, run by Jobs.CheckHealth):
// the last state of each is kept in meta, and each change is an event.

// Health states of a check.
const (
	HealthValid   = "valid"   // the check passed
	HealthRevoked = "revoked" // the check failed: the credential it checks was refused
	HealthUnknown = "unknown" // the check could not tell (the plugin or upstream did not answer)
)

// healthKey is the meta key of the last state of a source's health check.
func healthKey(sourceID, actionID string) string { return "health:" + sourceID + ":" + actionID }

// Health is the last state of one health check of a source.
type Health struct {
	ActionID string
	// Title is the action's title (its id when it has none).
	Title string
	// State is HealthValid, HealthRevoked, HealthUnknown, or "" when it never ran.
	State string
	// Renewal is set for a credential whose renewal was refused, Detail then the plugin's
	// words for what to do (renew.go).
	Renewal bool
	Detail  string
}

// Health is the last state of each health check of src (none when its plugin is not loaded).
func (s *Sources) Health(ctx context.Context, src *store.Source) []Health {
	p := s.plugins.Get(src.PluginID)
	if p == nil || p.Schema == nil {
		return nil
	}
	var out []Health
	for _, a := range p.Schema.Actions {
		if !a.Health {
			continue
		}
		h := Health{ActionID: a.ID, Title: a.Title}
		if h.Title == "" {
			h.Title = a.ID
		}
		h.State, _ = s.store.Meta(ctx, healthKey(src.ID, a.ID))
		out = append(out, h)
	}
	if p.Desc.Has(source.CapRenew) {
		out = append(out, s.renewalHealth(ctx, src)...)
	}
	return out
}
