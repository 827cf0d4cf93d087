package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"reflect"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Sources are the configured login methods and the plugins that serve them.
type Sources struct {
	store   Store
	plugins *Registry
	// renewWake wakes this replica's renewal job (RenewSoon).
	renewWake chan struct{}
	// expiredNoted bounds the renewals at once that expired errors bring (NoteExpired).
	expiredNoted perSource
}

// NewSources returns the sources of st served by the plugins of reg.
func NewSources(st Store, reg *Registry) *Sources {
	return &Sources{store: st, plugins: reg, renewWake: make(chan struct{}, 1)}
}

// Get is the source of id (store.ErrNotFound when there is none).
func (s *Sources) Get(ctx context.Context, id string) (*store.Source, error) {
	src, err := s.store.Source(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", id, err)
	}
	return src, nil
}

// List is every configured source, in the admin's order.
func (s *Sources) List(ctx context.Context) ([]*store.Source, error) {
	srcs, err := s.store.Sources(ctx)
	if err != nil {
		return nil, fmt.Errorf("sources: %w", err)
	}
	return srcs, nil
}

// Usable is the plugin of a source people may log in with now — turned on, with saved
// settings, its plugin loaded — or nil. Every step of a login asks it again: an admin may
// turn the source off while a login is under way.
func (s *Sources) Usable(src *store.Source) *Plugin {
	if src == nil || !src.Enabled || src.Config == nil {
		return nil
	}
	return s.plugins.Get(src.PluginID)
}

// Instance is the contract instance of a source's saved settings.
func Instance(src *store.Source) source.Instance {
	return instance(src, src.Config, src.ConfigVersion)
}

// Candidate is the instance of settings about to be validated: the next version.
func Candidate(src *store.Source, cfg json.RawMessage) source.Instance {
	return instance(src, cfg, src.ConfigVersion+1)
}

// Draft is the instance of what an admin is editing; a draft gets its own negative version
// so the plugin never confuses it with a saved config.
func Draft(src *store.Source) source.Instance {
	if src.Draft == nil {
		return Instance(src)
	}
	return instance(src, src.Draft, -int64(crc32.ChecksumIEEE(src.Draft))-1)
}

// ForAction is what admin actions and dry runs run against: the saved settings when there
// are any (a failed save must not break "check the credential"), else the draft of a
// source that was never saved.
func ForAction(src *store.Source) source.Instance {
	if src.Config != nil {
		return Instance(src)
	}
	return Draft(src)
}

// instance is the one builder of a contract instance.
func instance(src *store.Source, cfg json.RawMessage, version int64) source.Instance {
	return source.Instance{ID: src.ID, ConfigVersion: version, Config: cfg, Slug: src.Slug, Name: src.Name}
}

// Setup is a source to create with its settings.
type Setup struct {
	Plugin, Slug, Name string
	Config             json.RawMessage
	Enabled            bool
}

// ErrSlugTaken is Configure refused because a source with the slug exists (another replica
// may have made it a moment before).
var ErrSlugTaken = errors.New("a source with this slug exists")

// Configure creates a source, has its plugin validate the settings, saves what the plugin
// normalised and turns the source on or off.
func (s *Sources) Configure(ctx context.Context, set Setup) (*store.Source, error) {
	p := s.plugins.Get(set.Plugin)
	if p == nil {
		return nil, fmt.Errorf("no plugin %q", set.Plugin)
	}
	src, err := s.store.CreateSource(ctx, set.Plugin, set.Slug, set.Name)
	if err != nil {
		if _, found := s.store.SourceBySlug(ctx, set.Slug); found == nil {
			err = ErrSlugTaken
		}
		return nil, fmt.Errorf("source %s: %w", set.Slug, err)
	}
	norm, err := p.Process.ValidateConfig(ctx, Candidate(src, set.Config))
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", set.Slug, err)
	}
	if _, err := s.store.SaveConfig(ctx, src.ID, norm); err != nil {
		return nil, fmt.Errorf("source %s: save settings: %w", set.Slug, err)
	}
	if err := s.store.SetEnabled(ctx, src.ID, set.Enabled); err != nil {
		return nil, fmt.Errorf("source %s: %w", set.Slug, err)
	}
	if p.Desc.Has(source.CapRenew) {
		s.RenewSoon(ctx, src.ID)
	}
	return s.store.Source(ctx, src.ID)
}

// Save has the plugin validate cfg: valid settings are saved as a new version, invalid ones
// kept as the source's draft and returned as field errors. An error is a failure to check.
// cfg was made from src's settings as read: when another save (a renewal of its credentials)
// came first, each field cfg has as src had it takes the newer value, and the result is
// validated again, so a form never writes back a credential that was replaced meanwhile.
func (s *Sources) Save(ctx context.Context, src *store.Source, cfg map[string]any) ([]source.FieldError, error) {
	p := s.plugins.Get(src.PluginID)
	if p == nil {
		return nil, fmt.Errorf("no plugin %q", src.PluginID)
	}
	for attempt := 0; ; attempt++ {
		raw, _ := json.Marshal(cfg)
		norm, err := p.Process.ValidateConfig(ctx, Candidate(src, raw))
		if err != nil {
			return s.keepInvalid(ctx, src, raw, err)
		}
		v, err := s.store.SaveConfigAt(ctx, src.ID, src.ConfigVersion, norm)
		if errors.Is(err, store.ErrVersionMoved) && attempt < 3 {
			now, rerr := s.store.Source(ctx, src.ID)
			if rerr != nil {
				return nil, fmt.Errorf("read the settings saved meanwhile: %w", rerr)
			}
			cfg, src = Unchanged(cfg, src.Config, now.Config), now
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := s.dropTurnedOff(ctx, src, p, norm); err != nil {
			return nil, fmt.Errorf("drop credentials no longer handed over: %w", err)
		}
		_ = s.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.EventAdminSourceSaved, Detail: fmt.Sprintf("%s: settings version %d", src.Name, v)})
		if p.Desc.Has(source.CapRenew) {
			s.RenewSoon(ctx, src.ID)
		}
		return nil, nil
	}
}

// keepInvalid keeps raw, which the plugin found invalid (err), as the draft and answers its
// field errors; another error is the plugin failing to check.
func (s *Sources) keepInvalid(ctx context.Context, src *store.Source, raw json.RawMessage, err error) ([]source.FieldError, error) {
	se := source.AsError(err)
	if se.Kind != source.KindInvalidConfig {
		return nil, err
	}
	if derr := s.store.SaveDraft(ctx, src.ID, raw); derr != nil {
		return nil, derr
	}
	if len(se.FieldErrors) == 0 {
		se.FieldErrors = []source.FieldError{{Field: "", Message: se.UserText}}
	}
	return se.FieldErrors, nil
}

// Unchanged is cfg, made from the settings before, with each field it has as before had it
// (the admin did not change it) taken from the settings now (saved meanwhile).
func Unchanged(cfg map[string]any, before, now json.RawMessage) map[string]any {
	var b, n map[string]any
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(now, &n)
	out := map[string]any{}
	for k, v := range cfg {
		out[k] = v
	}
	for k, nv := range n {
		if reflect.DeepEqual(cfg[k], b[k]) && !reflect.DeepEqual(nv, b[k]) {
			out[k] = nv
		}
	}
	return out
}
