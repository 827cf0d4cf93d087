package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/settings"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Admin actions a plugin declares, their redirects and the choices they offer.

type actionState struct {
	SourceID string `json:"source_id"`
	ActionID string `json:"action_id"`
	Plugin   []byte `json:"plugin"`
}

type choicesState struct {
	SourceID string          `json:"source_id"`
	Field    string          `json:"field"`
	Options  []source.Choice `json:"options"`
	Patch    json.RawMessage `json:"patch"`
}

func (s *sourcePages) runAction(w http.ResponseWriter, r *http.Request) {
	src, p, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	actionID := r.PathValue("action")
	input := map[string]any{}
	_ = r.ParseForm()

	for k, v := range r.PostForm {
		if strings.HasPrefix(k, "input.") {
			input[strings.TrimPrefix(k, "input.")] = v[0]
		}
	}
	in, _ := json.Marshal(input)
	_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: store.EventAdminAction, Reason: actionID, Detail: src.Name + ": " + actionTitle(p, actionID)})
	res, err := p.P.RunAction(r.Context(), host.ForAction(src), source.ActionRequest{ActionID: actionID, Input: in,
		CallbackURL: s.callbackURL("/admin/actions/callback")})
	s.actionResult(w, r, src, p, actionID, res, err)
}

func (s *sourcePages) actionCallback(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	ls, err := s.store.TakeLoginState(r.Context(), sess.ID, store.StateAction)
	if err != nil {
		s.message(w, r, http.StatusBadRequest, "Please start again", "This action expired or was already completed.", "/admin")
		return
	}
	var st actionState
	_ = json.Unmarshal(ls.State, &st)
	src, err := s.store.Source(r.Context(), st.SourceID)
	if err != nil || s.plugins.Get(src.PluginID) == nil {
		http.NotFound(w, r)
		return
	}
	p := s.plugins.Get(src.PluginID)
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = v[0]
	}
	res, err := p.P.RunAction(r.Context(), host.ForAction(src), source.ActionRequest{ActionID: st.ActionID, State: st.Plugin, CallbackQuery: q})
	s.actionResult(w, r, src, p, st.ActionID, res, err)
}

// actionResult runs a redirect like a login, shows choices, applies a patch or shows a message.
func (s *sourcePages) actionResult(w http.ResponseWriter, r *http.Request, src *store.Source, p *host.Plugin, actionID string, res source.ActionResult, err error) {
	ctx := r.Context()
	sess := sessionOf(r)
	if err != nil {
		se := source.AsError(err)
		s.renderEdit(w, r, http.StatusBadGateway, src, p, current(src), nil, se.UserText+" ("+se.ReasonCode+")", "error")
		return
	}
	switch {
	case res.Redirect != nil:
		st, _ := json.Marshal(actionState{SourceID: src.ID, ActionID: actionID, Plugin: res.Redirect.State})
		exp := host.CapExpiry(res.Redirect.ExpiresAt, 30*time.Minute)
		if _, err := s.store.PutLoginState(ctx, store.LoginState{SessionID: sess.ID, SourceID: src.ID, Kind: store.StateAction, ActionID: actionID,
			State: st, ExpiresAt: exp}); err != nil {
			dbunavailable.Answer(w)
			return
		}
		http.Redirect(w, r, res.Redirect.URL, http.StatusSeeOther)
	case res.Choices != nil:
		st, _ := json.Marshal(choicesState{SourceID: src.ID, Field: res.Choices.Field, Options: res.Choices.Options, Patch: res.Choices.Patch})
		if _, err := s.store.PutLoginState(ctx, store.LoginState{SessionID: sess.ID, SourceID: src.ID, Kind: store.StateChoices, State: st,
			ExpiresAt: time.Now().Add(30 * time.Minute)}); err != nil {
			dbunavailable.Answer(w)
			return
		}
		picked := map[string]bool{}
		if list, ok := current(src)[res.Choices.Field].([]any); ok {
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
		title := res.Choices.Field
		if prop := p.Schema.Properties[res.Choices.Field]; prop != nil && prop.Title != "" {
			title = prop.Title
		}
		s.render(w, http.StatusOK, "choices.html", map[string]any{"Source": src, "Title": title, "Options": res.Choices.Options,
			"Picked": picked, "Session": sess})
	case res.ConfigPatch != nil:
		cfg := current(src)
		var patch map[string]any
		_ = json.Unmarshal(res.ConfigPatch, &patch)
		for k, v := range patch {
			cfg[k] = v
		}
		if s.grantReachesSource(r, src.ID) { // saving asks for the proof: into the form, for Save
			raw, _ := json.Marshal(cfg)
			if err := s.store.SaveDraft(ctx, src.ID, raw); err != nil {
				dbunavailable.Answer(w)
				return
			}
			src, _ = s.store.Source(ctx, src.ID)
			s.renderEdit(w, r, http.StatusOK, src, p, cfg, nil, "Updated by "+actionID+" in the form below. Nothing is saved yet: "+
				"the settings of this source can give its people the admin, so Save asks for proof that it is you.", "info")
			return
		}
		s.saveAndShow(w, r, src, p, cfg, "Updated by "+actionID+".", http.StatusOK, "Updated; the settings still need attention.", "warning")
	case res.Message != nil:
		s.renderEdit(w, r, http.StatusOK, src, p, current(src), nil, res.Message.Text, res.Message.Level)
	default:
		s.renderEdit(w, r, http.StatusOK, src, p, current(src), nil, "The action returned nothing.", "warning")
	}
}

func (s *sourcePages) applyChoices(w http.ResponseWriter, r *http.Request) {
	src, p, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	ls, err := s.store.TakeLoginState(r.Context(), sessionOf(r).ID, store.StateChoices)
	if err != nil {
		s.message(w, r, http.StatusBadRequest, "Please start again", "This choice expired.", "/admin/sources/"+src.ID)
		return
	}
	var st choicesState
	_ = json.Unmarshal(ls.State, &st)
	if st.SourceID != src.ID {
		http.Error(w, "choices of another source", http.StatusBadRequest)
		return
	}
	_ = r.ParseForm()
	want := map[string]bool{}
	for _, v := range r.PostForm["pick"] {
		want[v] = true
	}
	var picked []source.Choice
	for _, o := range st.Options {
		if want[o.Value] {
			picked = append(picked, o)
		}
	}
	cfg := current(src)
	var patch map[string]any
	_ = json.Unmarshal(st.Patch, &patch)
	for k, v := range patch {
		cfg[k] = v
	}
	p.Schema.ApplyChoices(cfg, st.Field, picked)
	// Into the form, not saved: the admin reviews and presses Save (kept as the draft meanwhile).
	raw, _ := json.Marshal(cfg)
	if err := s.store.SaveDraft(r.Context(), src.ID, raw); err != nil {
		dbunavailable.Answer(w)
		return
	}
	src, _ = s.store.Source(r.Context(), src.ID)
	var warn []source.FieldError
	if _, err := p.P.ValidateConfig(r.Context(), host.Draft(src)); err != nil {
		warn = source.AsError(err).FieldErrors
	}
	s.renderEdit(w, r, http.StatusOK, src, p, cfg, warn, fmt.Sprintf("%d picked and put into the form below. Nothing is saved yet: review, then press Save.",
		len(picked)), "info")
}
