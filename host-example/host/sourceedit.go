package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// What the admin does to a source: create it, edit and save its settings, keep or discard
// a draft, turn it on and off (deleting it is People.DeleteSource).

// ErrPluginNotLoaded: the plugin of a source is not loaded, so its settings cannot be
// shown, checked or acted on.
var ErrPluginNotLoaded = errors.New("the plugin of this source is not loaded")

// ErrNoSettings refuses turning a source on before valid settings were saved.
var ErrNoSettings = errors.New("save valid settings before turning the source on")

// ErrNotApproved: the caller's approval (a proof the admin was asked for) was not given;
// nothing changed.
var ErrNotApproved = errors.New("not approved")

// FormError is a form the host refused; Problems say what is wrong, in words.
type FormError struct{ Problems []string }

func (e *FormError) Error() string { return fmt.Sprintf("%d problems in the form", len(e.Problems)) }

// UncheckedError is settings the plugin could not check; nothing was saved.
type UncheckedError struct {
	Source *store.Source
	Plugin *Plugin
	Config map[string]any
	Err    error
}

func (e *UncheckedError) Error() string {
	return "the plugin could not check the settings: " + e.Err.Error()
}

// Unwrap is the plugin's error.
func (e *UncheckedError) Unwrap() error { return e.Err }

// Editable is the source of id with its plugin: store.ErrNotFound when there is no such
// source, ErrPluginNotLoaded when its plugin is not loaded.
func (s *Sources) Editable(ctx context.Context, id string) (*store.Source, *Plugin, error) {
	src, err := s.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	p := s.plugins.Get(src.PluginID)
	if p == nil {
		return nil, nil, fmt.Errorf("source %s: %w", id, ErrPluginNotLoaded)
	}
	return src, p, nil
}

// Editing is the config the admin is editing: the draft if any, else the saved one.
func Editing(src *store.Source) map[string]any {
	cfg := map[string]any{}
	raw := src.Draft
	if raw == nil {
		raw = src.Config
	}
	_ = json.Unmarshal(raw, &cfg)
	return cfg
}

// DraftErrors are why a source's draft was not saved: the plugin's field errors on it (none
// without a draft, or when the plugin finds none).
func DraftErrors(ctx context.Context, src *store.Source, p *Plugin) []source.FieldError {
	if src.Draft == nil || string(src.Draft) == "{}" {
		return nil
	}
	if _, err := p.Process.ValidateConfig(ctx, Draft(src)); err != nil {
		return source.AsError(err).FieldErrors
	}
	return nil
}

// NewSource is a source an admin creates, without settings yet.
type NewSource struct{ Plugin, Name, Slug string }

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// Create creates a source and records it; a *FormError says what is wrong with n.
func (s *Sources) Create(ctx context.Context, n NewSource) (*store.Source, error) {
	var errs []string
	if s.plugins.Get(n.Plugin) == nil {
		errs = append(errs, "Pick a plugin.")
	}
	if n.Name == "" {
		errs = append(errs, "Give the source a name.")
	}
	if !slugRE.MatchString(n.Slug) {
		errs = append(errs, "The slug is 1 to 40 lowercase letters, digits and dashes.")
	}
	if len(errs) > 0 {
		return nil, &FormError{Problems: errs}
	}
	src, err := s.store.CreateSource(ctx, n.Plugin, n.Slug, n.Name)
	if err != nil {
		return nil, &FormError{Problems: []string{"That slug is taken."}}
	}
	_ = s.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.EventAdminSourceCreated, Detail: n.Name + " (" + n.Plugin + ")"})
	return src, nil
}

// Saved is what saving settings came to.
type Saved struct {
	// Source is the source as stored now.
	Source *store.Source
	// Errors, when set, are why the settings were not saved (they are kept as the draft).
	Errors []source.FieldError
	// Warnings are the plugin's warnings about the saved settings.
	Warnings []string
}

// SaveSettings has the plugin of src check cfg and saves it (Save); an *UncheckedError
// says the plugin could not check it.
func (s *Sources) SaveSettings(ctx context.Context, src *store.Source, p *Plugin, cfg map[string]any) (Saved, error) {
	errs, err := s.Save(ctx, src, cfg)
	if err != nil {
		return Saved{}, &UncheckedError{Source: src, Plugin: p, Config: cfg, Err: err}
	}
	out := Saved{Source: src, Errors: errs}
	now, err := s.store.Source(ctx, src.ID)
	if err != nil {
		return out, nil
	}
	out.Source = now
	if errs != nil {
		return out, nil
	}
	if warns, err := p.Process.ConfigWarnings(ctx, Instance(now)); err == nil {
		for _, w := range warns {
			out.Warnings = append(out.Warnings, w.Message)
		}
	}
	return out, nil
}

// KeepDraft keeps cfg as the draft of src (into the form, not saved) and answers the source
// as stored now.
func (s *Sources) KeepDraft(ctx context.Context, src *store.Source, cfg map[string]any) (*store.Source, error) {
	raw, _ := json.Marshal(cfg)
	if err := s.store.SaveDraft(ctx, src.ID, raw); err != nil {
		return nil, fmt.Errorf("keep the draft of source %s: %w", src.ID, err)
	}
	if now, err := s.store.Source(ctx, src.ID); err == nil {
		return now, nil
	}
	return src, nil
}

// DiscardDraft drops the unsaved settings of src and records it; the saved ones stay.
func (s *Sources) DiscardDraft(ctx context.Context, src *store.Source) error {
	if err := s.store.DiscardDraft(ctx, src.ID); err != nil {
		return fmt.Errorf("discard the draft of source %s: %w", src.ID, err)
	}
	_ = s.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.EventAdminDraftDiscarded})
	return nil
}

// SetEnabled turns src on or off and records it. Turning on needs saved settings
// (ErrNoSettings); turning off keeps the admin's last way in (ErrLastWayIn). approve (nil:
// none) is asked once those checks pass, before anything changes: false is ErrNotApproved.
func (s *Sources) SetEnabled(ctx context.Context, src *store.Source, on bool, approve func() bool) error {
	if on && src.Config == nil {
		return ErrNoSettings
	}
	if !on {
		if err := NewAdmin(s.store, s).CheckWayInKept(ctx, src.ID, nil); err != nil {
			return err
		}
	}
	if approve != nil && !approve() {
		return ErrNotApproved
	}
	kind := store.EventAdminSourceDisabled
	if on {
		kind = store.EventAdminSourceEnabled
	}
	_ = s.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: kind, Detail: src.Name})
	if err := s.store.SetEnabled(ctx, src.ID, on); err != nil {
		return fmt.Errorf("turn source %s on or off: %w", src.ID, err)
	}
	return nil
}

// Usage counts what deleting a source ends: its people, their sessions, grants and kept
// credentials.
func (s *Sources) Usage(ctx context.Context, id string) (store.SourceUsage, error) {
	u, err := s.store.SourceUsage(ctx, id)
	if err != nil {
		return u, fmt.Errorf("source %s: %w", id, err)
	}
	return u, nil
}

// PersonRef is someone an admin names on a source's page: a user who logged in through it,
// or someone refused there before any login, known by their newest event there.
type PersonRef struct {
	// User is the person's user here (nil: known by an event only).
	User *store.User
	// Subject is the person's id at the source, and Name (known by an event only) the name
	// the event has, else their id.
	Subject, Name string
}

// FindPerson is the person who (by subject, username or name) logged in through, or was
// refused by, the source sourceID; nil for no one known.
func (s *Sources) FindPerson(ctx context.Context, sourceID, who string) *PersonRef {
	if u, err := s.store.FindUser(ctx, sourceID, who); err == nil {
		return &PersonRef{User: u, Subject: u.Subject}
	}
	if e, err := s.store.EventPerson(ctx, sourceID, who); err == nil {
		return &PersonRef{Subject: e.Subject, Name: NameOf(e.Name, e.Subject)}
	}
	return nil
}
