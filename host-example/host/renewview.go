package host

import (
	"context"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// What the admin's pages show of a source's expiring credentials, decided here: each one's
// label, expiry, last renewal, error or warning, and whether it needs the admin.

// lowLife is the share of a credential's life left below which the admin home warns (2/7:
// day 5 of a 7-day life).
const lowLife = 2.0 / 7

// ExpiringCredential is one expiring credential of a source as the admin sees it.
type ExpiringCredential struct {
	// Label names it (an account name); never the secret.
	Label string
	// ExpiresAt and RenewedAt are zero when unknown or never.
	ExpiresAt, RenewedAt time.Time
	// Error is why it was not renewed, in the plugin's words; Refused is set when the
	// upstream refused it (the admin must act), else it is retried.
	Error   string
	Refused bool
	// Warning is something to know that needs no action now.
	Warning string
	// Expired is set once ExpiresAt passed; RunningOut when less than 2/7 of its life is left.
	Expired, RunningOut bool
}

// Renewals is the renewal state of one source's expiring credentials.
type Renewals struct {
	Credentials []ExpiringCredential
	// LastRenewal is the last time a renewal changed the settings; NextRenewal when the
	// plugin is called next (zero: nothing scheduled).
	LastRenewal, NextRenewal time.Time
}

// NeedsAdmin are the credentials an admin must look at: refused, expired or running out.
func (r Renewals) NeedsAdmin() []ExpiringCredential {
	var out []ExpiringCredential
	for _, c := range r.Credentials {
		if c.Refused || c.Expired || c.RunningOut {
			out = append(out, c)
		}
	}
	return out
}

// Renewals is the renewal state of src's expiring credentials at now; empty when its plugin
// renews nothing or it was never looked at.
func (s *Sources) Renewals(ctx context.Context, src *store.Source, now time.Time) Renewals {
	p := s.plugins.Get(src.PluginID)
	if p == nil || !p.Desc.Has(source.CapRenew) {
		return Renewals{}
	}
	row, err := s.store.SourceRenewal(ctx, src.ID)
	if err != nil {
		return Renewals{}
	}
	return renewalsOf(row, now)
}

// renewalsOf decides what the admin sees of a renewal row at now.
func renewalsOf(row *store.SourceRenewal, now time.Time) Renewals {
	out := Renewals{LastRenewal: row.LastRenewedAt, NextRenewal: row.RenewAfter}
	for _, c := range row.Credentials {
		v := ExpiringCredential{Label: c.Label, ExpiresAt: unixOrZero(c.ExpiresAt), RenewedAt: unixOrZero(c.RenewedAt),
			Error: c.Error, Refused: c.Refused, Warning: c.Warning}
		if !v.ExpiresAt.IsZero() && !v.Refused {
			v.Expired = !now.Before(v.ExpiresAt)
			v.RunningOut = !v.Expired && RunningOut(time.Unix(c.Since, 0), v.ExpiresAt, now)
		}
		out.Credentials = append(out.Credentials, v)
	}
	return out
}

// RunningOut reports whether a credential whose life runs from since to exp has less than
// 2/7 of it left at now (day 5 of 7); one of unknown start is judged on 7 days.
func RunningOut(since, exp, now time.Time) bool {
	life := exp.Sub(since)
	if since.IsZero() || since.Unix() == 0 || life <= 0 {
		life = 7 * 24 * time.Hour
	}
	return exp.Sub(now) < time.Duration(float64(life)*lowLife)
}

// renewalHealth are src's refused credentials as failing health entries.
func (s *Sources) renewalHealth(ctx context.Context, src *store.Source) []Health {
	row, err := s.store.SourceRenewal(ctx, src.ID)
	if err != nil {
		return nil
	}
	var out []Health
	for _, c := range row.Credentials {
		if c.Refused {
			out = append(out, Health{Title: "Renewal of " + c.Label, State: HealthRevoked, Detail: c.Error, Renewal: true})
		}
	}
	return out
}

func unixOrZero(u int64) time.Time {
	if u == 0 {
		return time.Time{}
	}
	return time.Unix(u, 0)
}
