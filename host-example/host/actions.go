package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/plexlogin/plexlogin/host-example/settings"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Actions run the admin actions a source's plugin declares: an action answers a message, a
// settings patch, choices for a field (ApplyChoices puts the picked into the form), or a
// redirect whose callback (Callback) is kept as a login's is (redirectStates).
type Actions struct {
	store   Store
	sources *Sources
	states  redirectStates
}

// NewActions returns the admin actions of the sources of srcs.
func NewActions(st Store, srcs *Sources) *Actions {
	return &Actions{store: st, sources: srcs, states: redirectStates{st}}
}

// actionState is what the host keeps of an action's redirect.
type actionState struct {
	SourceID string `json:"source_id"`
	ActionID string `json:"action_id"`
	Plugin   []byte `json:"plugin"`
}

// choicesState is what the host keeps of choices offered, until the admin picks.
type choicesState struct {
	SourceID string          `json:"source_id"`
	Field    string          `json:"field"`
	Options  []source.Choice `json:"options"`
	Patch    json.RawMessage `json:"patch"`
}

// ErrActionStale: the action's or the choice's state expired, was used, or belongs to
// another session.
var ErrActionStale = errors.New("this action expired or was already completed")

// ErrOtherSource: the choices were offered for another source.
var ErrOtherSource = errors.New("choices of another source")

// ActionFailedError is an action the plugin refused or could not run.
type ActionFailedError struct {
	Source *store.Source
	Plugin *Plugin
	Err    *source.Error
	// Retry is set when the same callback may be tried again (its state stays).
	Retry bool
}

func (e *ActionFailedError) Error() string {
	return fmt.Sprintf("action on %s: %v", e.Source.Slug, e.Err)
}

// Unwrap is the plugin's error.
func (e *ActionFailedError) Unwrap() error { return e.Err }

// ActionRun asks to run an action of a source.
type ActionRun struct {
	SourceID, ActionID, SessionID string
	// Input are the action's input fields.
	Input map[string]string
	// Callback is the callback URL of the action's redirect state with this id.
	Callback func(stateID string) string
	// AsDraft reports whether a settings patch of the source goes into the form as its draft,
	// for the admin to save (saving asks for a proof), rather than being saved at once.
	AsDraft func(sourceID string) bool
}

// ActionCallback is the return of an action's redirect.
type ActionCallback struct {
	SessionID, StateID string
	// Query is the callback's query (first values).
	Query map[string]string
	// AsDraft is as ActionRun's.
	AsDraft func(sourceID string) bool
}

// ActionOutcome is what an action came to: exactly one of Redirect, Choices, Patched and
// Message is set.
type ActionOutcome struct {
	Source   *store.Source
	Plugin   *Plugin
	ActionID string
	// Redirect is the page the browser goes to; its callback comes back to Callback.
	Redirect string
	// Choices are values offered for a field; the state waits for ApplyChoices.
	Choices *ActionChoices
	// Patched is the settings the action changed.
	Patched *Patched
	// Message is the action's answer in words (a warning when it answered nothing).
	Message *source.ActionMessage
}

// ActionChoices are the values an action offers for a field of the settings.
type ActionChoices struct {
	// Field is the field's name, Title its title in the schema (its name without one).
	Field, Title string
	Options      []source.Choice
	// Picked are the values the field has now.
	Picked map[string]bool
}

// Patched is settings an action changed.
type Patched struct {
	// Config is the settings with the action's patch.
	Config map[string]any
	// Drafted is set when they went into the form as the draft (ActionRun.AsDraft); else
	// Saved says how saving them went.
	Drafted bool
	Saved   Saved
}

// Run runs an action of a source, recording that it ran.
func (a *Actions) Run(ctx context.Context, run ActionRun) (ActionOutcome, error) {
	src, p, err := a.sources.Editable(ctx, run.SourceID)
	if err != nil {
		return ActionOutcome{}, err
	}
	input := map[string]any{}
	for k, v := range run.Input {
		input[k] = v
	}
	in, _ := json.Marshal(input)
	_ = a.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.EventAdminAction, Reason: run.ActionID,
		Detail: src.Name + ": " + p.ActionTitle(run.ActionID)})
	// Each redirect has its own state id in its callback URL, as a login's has.
	id := store.RandomID(16)
	res, err := p.Process.RunAction(ctx, ForAction(src), source.ActionRequest{ActionID: run.ActionID, Input: in, CallbackURL: run.Callback(id)})
	if err != nil {
		a.sources.NoteExpired(ctx, src, err)
		return ActionOutcome{}, &ActionFailedError{Source: src, Plugin: p, Err: source.AsError(err)}
	}
	return a.result(ctx, src, p, run.ActionID, run.SessionID, id, res, run.AsDraft)
}

// Callback continues an action from its redirect's callback. Its state is claimed for the
// call, and ends with the plugin's answer, unless that is retryable (*ActionFailedError with
// Retry): then it stays, and the same callback can be tried again. store.ErrNotFound or
// ErrPluginNotLoaded: the source went meanwhile.
func (a *Actions) Callback(ctx context.Context, cb ActionCallback) (ActionOutcome, error) {
	ls, err := a.states.claim(ctx, cb.SessionID, store.StateAction, cb.StateID)
	if err != nil {
		return ActionOutcome{}, ErrActionStale
	}
	var st actionState
	_ = json.Unmarshal(ls.State, &st)
	src, p, err := a.sources.Editable(ctx, st.SourceID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, ErrPluginNotLoaded) {
			a.states.drop(ctx, ls)
		}
		return ActionOutcome{}, err
	}
	res, err := p.Process.RunAction(ctx, ForAction(src), source.ActionRequest{ActionID: st.ActionID, State: st.Plugin, CallbackQuery: cb.Query})
	if retry := a.states.settle(ctx, ls, err); err != nil {
		return ActionOutcome{}, &ActionFailedError{Source: src, Plugin: p, Err: source.AsError(err), Retry: retry}
	}
	// A further redirect comes back to the same callback URL: its state keeps the id.
	return a.result(ctx, src, p, st.ActionID, cb.SessionID, ls.ID, res, cb.AsDraft)
}

// result keeps a redirect's state (id) or the choices offered, or applies a settings patch.
func (a *Actions) result(ctx context.Context, src *store.Source, p *Plugin, actionID, sessionID, id string, res source.ActionResult,
	asDraft func(string) bool) (ActionOutcome, error) {
	out := ActionOutcome{Source: src, Plugin: p, ActionID: actionID}
	switch {
	case res.Redirect != nil:
		st, _ := json.Marshal(actionState{SourceID: src.ID, ActionID: actionID, Plugin: res.Redirect.State})
		if _, err := a.states.put(ctx, store.LoginState{ID: id, SessionID: sessionID, SourceID: src.ID, Kind: store.StateAction, ActionID: actionID,
			State: st, ExpiresAt: CapExpiry(res.Redirect.ExpiresAt, 30*time.Minute)}); err != nil {
			return ActionOutcome{}, fmt.Errorf("keep the state of action %s: %w", actionID, err)
		}
		out.Redirect = res.Redirect.URL
	case res.Choices != nil:
		st, _ := json.Marshal(choicesState{SourceID: src.ID, Field: res.Choices.Field, Options: res.Choices.Options, Patch: res.Choices.Patch})
		if _, err := a.states.put(ctx, store.LoginState{SessionID: sessionID, SourceID: src.ID, Kind: store.StateChoices, State: st,
			ExpiresAt: time.Now().Add(30 * time.Minute)}); err != nil {
			return ActionOutcome{}, fmt.Errorf("keep the choices of action %s: %w", actionID, err)
		}
		out.Choices = offered(src, p, res.Choices)
	case res.ConfigPatch != nil:
		cfg := patch(Editing(src), res.ConfigPatch)
		out.Patched = &Patched{Config: cfg}
		if asDraft != nil && asDraft(src.ID) {
			now, err := a.sources.KeepDraft(ctx, src, cfg)
			if err != nil {
				return ActionOutcome{}, err
			}
			out.Source, out.Patched.Drafted = now, true
			return out, nil
		}
		saved, err := a.sources.SaveSettings(ctx, src, p, cfg)
		if err != nil {
			return ActionOutcome{}, err
		}
		out.Patched.Saved = saved
	case res.Message != nil:
		out.Message = res.Message
	default:
		out.Message = &source.ActionMessage{Text: "The action returned nothing.", Level: "warning"}
	}
	return out, nil
}

// offered are choices with the field's title and the values the settings have now.
func offered(src *store.Source, p *Plugin, c *source.ActionChoices) *ActionChoices {
	picked := map[string]bool{}
	if list, ok := Editing(src)[c.Field].([]any); ok {
		for _, x := range list {
			if m, ok := x.(map[string]any); ok {
				for _, v := range m {
					picked[settings.Scalar(v)] = true
				}
			} else {
				picked[settings.Scalar(x)] = true
			}
		}
	}
	title := c.Field
	if prop := p.Schema.Properties[c.Field]; prop != nil && prop.Title != "" {
		title = prop.Title
	}
	return &ActionChoices{Field: c.Field, Title: title, Options: c.Options, Picked: picked}
}

// patch is cfg with the top-level keys of the JSON object raw set.
func patch(cfg map[string]any, raw json.RawMessage) map[string]any {
	var p map[string]any
	_ = json.Unmarshal(raw, &p)
	for k, v := range p {
		cfg[k] = v
	}
	return cfg
}

// ChoicesPick is the admin's pick of the choices an action offered.
type ChoicesPick struct {
	SourceID, SessionID string
	// Values are the picked options' values.
	Values []string
}

// Picked is the picked choices put into the form: kept as the draft, not saved.
type Picked struct {
	Source *store.Source
	Plugin *Plugin
	Config map[string]any
	// Count is how many options were picked; Warnings the plugin's field errors on the draft.
	Count    int
	Warnings []source.FieldError
}

// ApplyChoices puts the picked choices (and the patch offered with them) into the settings
// form: the draft, for the admin to review and save. The choices' state is single use
// (ErrActionStale after); ErrOtherSource when they were offered for another source.
func (a *Actions) ApplyChoices(ctx context.Context, pick ChoicesPick) (Picked, error) {
	src, p, err := a.sources.Editable(ctx, pick.SourceID)
	if err != nil {
		return Picked{}, err
	}
	ls, err := a.store.TakeLoginState(ctx, pick.SessionID, store.StateChoices)
	if err != nil {
		return Picked{}, ErrActionStale
	}
	var st choicesState
	_ = json.Unmarshal(ls.State, &st)
	if st.SourceID != src.ID {
		return Picked{}, ErrOtherSource
	}
	want := map[string]bool{}
	for _, v := range pick.Values {
		want[v] = true
	}
	var picked []source.Choice
	for _, o := range st.Options {
		if want[o.Value] {
			picked = append(picked, o)
		}
	}
	cfg := patch(Editing(src), st.Patch)
	p.Schema.ApplyChoices(cfg, st.Field, picked)
	now, err := a.sources.KeepDraft(ctx, src, cfg)
	if err != nil {
		return Picked{}, err
	}
	out := Picked{Source: now, Plugin: p, Config: cfg, Count: len(picked)}
	if _, err := p.Process.ValidateConfig(ctx, Draft(now)); err != nil {
		out.Warnings = source.AsError(err).FieldErrors
	}
	return out, nil
}

// ActionTitle is the title of the action id in the plugin's schema (id when it has none).
func (p *Plugin) ActionTitle(id string) string {
	for _, a := range p.Schema.Actions {
		if a.ID == id && a.Title != "" {
			return a.Title
		}
	}
	return id
}
