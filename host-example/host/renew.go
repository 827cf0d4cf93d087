package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/host-example/settings"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// The renewal of sources' expiring credentials (contract 1.4, capability config.renew): a
// database-wide job that calls a source's plugin when its schedule says so (after every save
// of its settings, at the time the plugin asked, at once when a call says its credentials
// expired early), merges the plugin's patch into the settings version it was called with,
// has the plugin validate the result and saves it sealed, only while that version is still
// the current one (an admin's save meanwhile wins; the plugin is called again on it).

// Renewal timing.
const (
	// renewPoll is how often the job looks at the schedule when nothing is due sooner (a
	// save on another replica is seen by then).
	renewPoll = time.Minute
	// renewLease is how long a replica holds a source's renewal while it runs.
	renewLease = 5 * time.Minute
	// renewCall bounds one call of a plugin.
	renewCall = 2 * time.Minute
	// renewFirstRetry and renewMaxRetry bound the back-off of a failing renewal.
	renewFirstRetry = 30 * time.Second
	renewMaxRetry   = time.Hour
)

// renewalEvent is the kind of a renewal's events: a health event of the source, so the
// events page shows them with its health checks.
var renewalEvent = store.HealthEvent("credential_renewal")

// Reasons of renewal events.
const (
	renewedReason = "renewed"
	refusedReason = "refused"
	warningReason = "warning"
	failedReason  = "failed"
)

// Renewer is the job that keeps sources' expiring credentials renewed.
type Renewer struct {
	store   Store
	sources *Sources
	log     hclog.Logger
	// now is the clock (tests inject theirs).
	now func() time.Time
}

// NewRenewer returns the renewal job over st's sources; logger may be nil.
func NewRenewer(st Store, srcs *Sources, logger hclog.Logger) *Renewer {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Renewer{store: st, sources: srcs, log: logger, now: time.Now}
}

// SetClock replaces the job's clock (tests).
func (r *Renewer) SetClock(now func() time.Time) { r.now = now }

// RenewSoon makes source id due for renewal now and wakes this replica's job; a source whose
// plugin renews nothing is looked at once and left.
func (s *Sources) RenewSoon(ctx context.Context, id string) {
	if err := s.store.RenewBy(ctx, id, time.Now()); err != nil {
		return // the job's next look at the versions finds it
	}
	select {
	case s.renewWake <- struct{}{}:
	default:
	}
}

// NoteExpired renews src's credentials at once when err (a plugin's answer to any call) says
// they expired early, at most once per renewFirstRetry per source on this replica: anyone's
// login can bring such an error, and a storm of them must not become a renewal (and upstream
// calls) each, nor undo the back-off of a failing renewal more often than that.
func (s *Sources) NoteExpired(ctx context.Context, src *store.Source, err error) {
	if err != nil && src != nil && source.SourceCredentialsExpired(err) && s.expiredNoted.once(src.ID, time.Now(), renewFirstRetry) {
		s.RenewSoon(ctx, src.ID)
	}
}

// perSource remembers when something last happened for each source.
type perSource struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// once reports whether nothing happened for id within every before now, and notes now if so.
func (p *perSource) once(id string, now time.Time, every time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil {
		p.last = map[string]time.Time{}
	}
	if last, ok := p.last[id]; ok && now.Sub(last) < every {
		return false
	}
	for k, t := range p.last { // forget what no longer bounds anything
		if now.Sub(t) >= every {
			delete(p.last, k)
		}
	}
	p.last[id] = now
	return true
}

// Run runs the job until ctx ends, once the plugins are ready: a round when the earliest
// schedule comes, when woken, and at least every renewPoll. One replica at a time runs a
// round (RunAlone); each source's renewal is also claimed with a lease.
func (r *Renewer) Run(ctx context.Context) {
	if r.sources.plugins.Wait(ctx) != nil {
		return
	}
	for {
		_, _ = r.RoundAlone(ctx)
		wait := r.untilNext(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.sources.renewWake:
			t.Stop()
		case <-t.C:
		}
	}
}

// RoundAlone runs a Round unless another replica of a shared database runs one now (false).
func (r *Renewer) RoundAlone(ctx context.Context) (bool, error) {
	return r.store.RunAlone(ctx, "renew-credentials", func(ctx context.Context) { _ = r.Round(ctx) })
}

// untilNext is how long to wait for the next round: until the earliest schedule of a source
// this job renews (at least a second: another replica may be renewing what is due), at
// most renewPoll.
func (r *Renewer) untilNext(ctx context.Context) time.Duration {
	srcs, err := r.store.Sources(ctx)
	if err != nil {
		return renewPoll
	}
	rows, err := r.store.SourceRenewals(ctx)
	if err != nil {
		return renewPoll
	}
	renewable := map[string]bool{}
	for _, src := range srcs {
		renewable[src.ID] = r.renewable(src) != nil
	}
	now, wait := r.now(), renewPoll
	for _, row := range rows {
		if row.RenewAfter.IsZero() || !renewable[row.SourceID] {
			continue
		}
		at := row.RenewAfter
		if row.LeaseUntil.After(at) {
			at = row.LeaseUntil
		}
		wait = min(wait, max(at.Sub(now), time.Second))
	}
	return wait
}

// renewable is the plugin of a source this job renews: saved settings, its plugin loaded
// and declaring config.renew; else nil.
func (r *Renewer) renewable(src *store.Source) *Plugin {
	p := r.sources.plugins.Get(src.PluginID)
	if p == nil || !p.Desc.Has(source.CapRenew) || src.Config == nil {
		return nil
	}
	return p
}

// Round renews every source that is due: one whose plugin declares config.renew and whose
// schedule says so, or whose settings changed since the plugin last looked at them (a save
// on another replica, a database from before renewals).
func (r *Renewer) Round(ctx context.Context) error {
	srcs, err := r.store.Sources(ctx)
	if err != nil {
		return fmt.Errorf("renewals: %w", err)
	}
	rows, err := r.store.SourceRenewals(ctx)
	if err != nil {
		return fmt.Errorf("renewals: %w", err)
	}
	byID := map[string]*store.SourceRenewal{}
	for _, row := range rows {
		byID[row.SourceID] = row
	}
	for _, src := range srcs {
		p := r.renewable(src)
		if p == nil {
			continue
		}
		prev := byID[src.ID]
		if prev == nil || prev.ConfigVersion != src.ConfigVersion {
			if err := r.store.RenewBy(ctx, src.ID, r.now()); err != nil {
				continue
			}
			if prev == nil {
				prev = &store.SourceRenewal{SourceID: src.ID}
			}
		}
		// Up to a few calls: an admin's save meanwhile means calling again on it.
		for range 3 {
			if ok, err := r.store.ClaimRenewal(ctx, src.ID, renewLease); err != nil || !ok {
				break
			}
			again, err := r.renew(ctx, src, p, prev)
			if err != nil {
				r.log.Warn("credential renewal", "source", src.ID, "error", err)
			}
			if !again {
				break
			}
			if src, err = r.store.Source(ctx, src.ID); err != nil || src.Config == nil {
				break
			}
			if row, err := r.store.SourceRenewal(ctx, src.ID); err == nil {
				prev = row
			}
		}
	}
	return nil
}

// renew calls the plugin of src once and writes what came of it; again reports that an
// admin saved meanwhile, so the plugin must be called on the new settings.
func (r *Renewer) renew(ctx context.Context, src *store.Source, p *Plugin, prev *store.SourceRenewal) (again bool, err error) {
	called := r.now()
	cctx, cancel := context.WithTimeout(ctx, renewCall)
	ans, err := p.Process.RenewSourceCredentials(cctx, Instance(src))
	cancel()
	now := r.now()
	out := store.SourceRenewal{SourceID: src.ID, ConfigVersion: src.ConfigVersion, LastRenewedAt: prev.LastRenewedAt, Credentials: prev.Credentials}
	if err != nil && source.AsError(err).Kind == source.KindUnimplemented {
		return false, r.store.FinishRenewal(ctx, out) // nothing to renew: nothing scheduled
	}
	if err == nil {
		err = ans.Check(called)
	}
	if err != nil {
		return false, r.failed(ctx, src, prev, out, now, fmt.Errorf("the plugin could not renew: %w", err))
	}
	out.Credentials = credentialsOf(ans.Credentials, prev.Credentials, now)
	if len(ans.ConfigPatch) > 0 {
		v, err := r.sources.saveRenewed(ctx, src, p, ans.ConfigPatch)
		if errors.Is(err, store.ErrVersionMoved) {
			// An admin saved meanwhile: that save stands, and the plugin is called on it
			// (the credential in it is still valid, or is renewed now).
			return true, r.store.FinishRenewal(ctx, store.SourceRenewal{SourceID: src.ID, ConfigVersion: prev.ConfigVersion,
				RenewAfter: now, Attempts: prev.Attempts, LastRenewedAt: prev.LastRenewedAt, Credentials: prev.Credentials})
		}
		if err != nil {
			return false, r.failed(ctx, src, prev, out, now, err)
		}
		out.ConfigVersion, out.LastRenewedAt = v, now
	}
	r.events(ctx, src, prev.Credentials, out.Credentials)
	out.RenewAfter = ans.RenewAfter
	if retrying(out.Credentials) {
		out.Attempts = prev.Attempts + 1
		out.RenewAfter = NextRenewal(now, out.Attempts, ans.RenewAfter, out.Credentials)
	}
	return false, r.store.FinishRenewal(ctx, out)
}

// failed keeps the settings as they are and tries again later (NextRenewal), recording the
// first failure of a run of them.
func (r *Renewer) failed(ctx context.Context, src *store.Source, prev *store.SourceRenewal, out store.SourceRenewal, now time.Time, err error) error {
	out.Credentials, out.Attempts = prev.Credentials, prev.Attempts+1
	out.RenewAfter = NextRenewal(now, out.Attempts, time.Time{}, out.Credentials)
	if out.Attempts == 1 {
		_ = r.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: renewalEvent, Reason: failedReason,
			Detail: "credential renewal failed, tried again: " + source.AsError(err).UserText})
	}
	if ferr := r.store.FinishRenewal(ctx, out); ferr != nil {
		return ferr
	}
	return err
}

// events records what changed for each credential: renewed, refused, a new warning.
func (r *Renewer) events(ctx context.Context, src *store.Source, before, after []store.RenewalCredential) {
	old := map[string]store.RenewalCredential{}
	for _, c := range before {
		old[c.Field] = c
	}
	for _, c := range after {
		o := old[c.Field]
		switch {
		case c.RenewedAt != 0 && c.RenewedAt != o.RenewedAt && c.Error == "":
			_ = r.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: renewalEvent, Reason: renewedReason, Detail: "credentials renewed: " + c.Label})
		case c.Refused && (!o.Refused || o.Error != c.Error):
			_ = r.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: renewalEvent, Reason: refusedReason, Detail: c.Label + ": " + c.Error})
		}
		if c.Warning != "" && c.Warning != o.Warning {
			_ = r.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: renewalEvent, Reason: warningReason, Detail: c.Label + ": " + c.Warning})
		}
	}
}

// saveRenewed merges a renewal's patch into src's settings (the version the plugin was
// called with), has the plugin validate them as an admin's save is, and saves them sealed
// while that version is current (store.ErrVersionMoved otherwise). An unsaved draft keeps
// what the admin changed and takes the renewed values of what they did not.
func (s *Sources) saveRenewed(ctx context.Context, src *store.Source, p *Plugin, patchRaw json.RawMessage) (int64, error) {
	base := map[string]any{}
	if err := json.Unmarshal(src.Config, &base); err != nil {
		return 0, fmt.Errorf("read the settings: %w", err)
	}
	var changes map[string]any
	if err := json.Unmarshal(patchRaw, &changes); err != nil {
		return 0, fmt.Errorf("read the plugin's changes: %w", err)
	}
	if err := SecretsOnly(p.Schema, changes); err != nil {
		return 0, err
	}
	merged := map[string]any{}
	for k, v := range base {
		merged[k] = v
	}
	for k, v := range changes {
		merged[k] = v
	}
	raw, _ := json.Marshal(merged)
	norm, err := p.Process.ValidateConfig(ctx, Candidate(src, raw))
	if err != nil {
		return 0, fmt.Errorf("the renewed settings were not accepted: %w", err)
	}
	return s.store.RenewConfig(ctx, src.ID, src.ConfigVersion, norm, func(draft json.RawMessage) json.RawMessage {
		return Rebase(draft, base, changes)
	})
}

// SecretsOnly refuses a renewal's changes that touch anything but a secret (writeOnly)
// top-level setting of schema: a renewal saves without an admin, so it may replace
// credentials, never change who may sign in or add settings (contract 1.4).
func SecretsOnly(schema *settings.Schema, changes map[string]any) error {
	var bad []string
	for k := range changes {
		if schema == nil || schema.Properties[k] == nil || !schema.Properties[k].WriteOnly {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return source.Errorf(source.KindInternal, "renewal_patch_refused",
		"The plugin's renewal tried to change settings that are not credentials ("+strings.Join(bad, ", ")+"); nothing was saved.",
		"renewal patch of non-secret settings %v", bad)
}

// Rebase is a draft with the changes of a renewal applied to each field the draft has as
// the settings had it before (the admin did not change it); a field they changed keeps
// their value.
func Rebase(draft json.RawMessage, base, changes map[string]any) json.RawMessage {
	d := map[string]any{}
	if json.Unmarshal(draft, &d) != nil {
		return draft
	}
	for k, v := range changes {
		if dv, ok := d[k]; ok && reflect.DeepEqual(dv, base[k]) {
			d[k] = v
		}
	}
	out, err := json.Marshal(d)
	if err != nil {
		return draft
	}
	return out
}

// retrying reports whether a credential's renewal failed for a passing reason.
func retrying(creds []store.RenewalCredential) bool {
	for _, c := range creds {
		if c.Error != "" && !c.Refused {
			return true
		}
	}
	return false
}

// NextRenewal is when to try again after the attempts-th failure in a row at now: a back-off
// doubling from renewFirstRetry up to renewMaxRetry, never later than the plugin's own time
// (asked, zero: none) and, while a credential still lives, before it expires (half of what is
// left), never sooner than a second on.
func NextRenewal(now time.Time, attempts int, asked time.Time, creds []store.RenewalCredential) time.Time {
	backoff := renewMaxRetry
	if attempts >= 1 && attempts < 12 {
		backoff = min(renewFirstRetry<<(attempts-1), renewMaxRetry)
	}
	next := now.Add(backoff)
	if !asked.IsZero() && asked.Before(next) {
		next = asked
	}
	for _, c := range creds {
		if c.ExpiresAt == 0 || c.Refused {
			continue
		}
		if exp := time.Unix(c.ExpiresAt, 0); exp.After(now) {
			if half := now.Add(exp.Sub(now) / 2); half.Before(next) {
				next = half
			}
		}
	}
	return maxTime(next, now.Add(time.Second))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// credentialsOf are the plugin's credentials as stored: never a secret, each with the start
// of its current life (its renewal, else when the host first saw this expiry).
func credentialsOf(creds []source.ExpiringCredential, prev []store.RenewalCredential, now time.Time) []store.RenewalCredential {
	old := map[string]store.RenewalCredential{}
	for _, c := range prev {
		old[c.Field] = c
	}
	out := []store.RenewalCredential{}
	for _, c := range creds {
		sc := store.RenewalCredential{Field: c.Field, Label: c.Label, ExpiresAt: unixOf(c.ExpiresAt), RenewedAt: unixOf(c.RenewedAt), Warning: c.Warning}
		if c.Label == "" {
			sc.Label = c.Field
		}
		if c.Err != nil {
			sc.Error, sc.Refused = c.Err.UserText, c.Refused()
			if sc.Error == "" {
				sc.Error = "It could not be renewed."
			}
		}
		switch o := old[c.Field]; {
		case sc.RenewedAt != 0:
			sc.Since = sc.RenewedAt
		case o.ExpiresAt == sc.ExpiresAt && o.Since != 0:
			sc.Since = o.Since
		default:
			sc.Since = now.Unix()
		}
		out = append(out, sc)
	}
	return out
}

func unixOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
