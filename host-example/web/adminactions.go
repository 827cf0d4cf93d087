package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Admin actions a plugin declares, their redirects and the choices they offer (host.Actions).

// choicesPage is choices.html's data: its Title is the field's.
type choicesPage struct {
	Head
	Source  *store.Source
	Options []source.Choice
	Picked  map[string]bool
}

// asDraft reports whether a settings patch of the source goes into the form for the admin
// to save (saving asks for the proof) rather than being saved at once.
func (s *sourcePages) asDraft(r *http.Request) func(sourceID string) bool {
	return func(sourceID string) bool { return s.grantReachesSource(r, sourceID) }
}

func (s *sourcePages) runAction(w http.ResponseWriter, r *http.Request) error {
	_ = r.ParseForm()
	input := map[string]string{}
	for k, v := range r.PostForm {
		if strings.HasPrefix(k, "input.") {
			input[strings.TrimPrefix(k, "input.")] = v[0]
		}
	}
	out, err := s.actions.Run(r.Context(), host.ActionRun{SourceID: r.PathValue("id"), ActionID: r.PathValue("action"), SessionID: sessionOf(r).ID,
		Input: input, AsDraft: s.asDraft(r), Callback: func(id string) string { return s.callbackURL("/admin/actions/callback/" + id) }})
	if errors.Is(err, host.ErrPluginNotLoaded) {
		http.Error(w, "the plugin of this source is not loaded", http.StatusServiceUnavailable)
		return nil
	}
	return s.actionOutcome(w, r, out, err)
}

func (s *sourcePages) actionCallback(w http.ResponseWriter, r *http.Request) error {
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = v[0]
	}
	out, err := s.actions.Callback(r.Context(), host.ActionCallback{SessionID: sessionOf(r).ID, StateID: r.PathValue("state"), Query: q,
		AsDraft: s.asDraft(r)})
	switch {
	case errors.Is(err, host.ErrActionStale):
		s.message(w, r, http.StatusBadRequest, "Please start again", "This action expired or was already completed.", "/admin")
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, host.ErrPluginNotLoaded):
		http.NotFound(w, r)
		return nil
	}
	return s.actionOutcome(w, r, out, err)
}

// actionOutcome answers what an action came to: the redirect, the choices, the patched
// settings or the message, on the source's page; or the plugin's refusal.
func (s *sourcePages) actionOutcome(w http.ResponseWriter, r *http.Request, out host.ActionOutcome, err error) error {
	var failed *host.ActionFailedError
	var unchecked *host.UncheckedError
	switch {
	case errors.As(err, &failed):
		s.renderEdit(w, r, http.StatusBadGateway, editForm{failed.Source, failed.Plugin, host.Editing(failed.Source), nil,
			failed.Err.UserText + " (" + failed.Err.ReasonCode + ")", "error"})
		return nil
	case errors.As(err, &unchecked):
		s.renderEdit(w, r, http.StatusBadGateway, uncheckedForm(editForm{src: unchecked.Source, p: unchecked.Plugin, cfg: unchecked.Config}, err))
		return nil
	case err != nil:
		return err
	}
	src, p := out.Source, out.Plugin
	switch {
	case out.Redirect != "":
		http.Redirect(w, r, out.Redirect, http.StatusSeeOther)
	case out.Choices != nil:
		s.render(w, http.StatusOK, "choices.html", &choicesPage{Head: Head{Title: out.Choices.Title, Session: sessionOf(r)}, Source: src,
			Options: out.Choices.Options, Picked: out.Choices.Picked})
	case out.Patched != nil && out.Patched.Drafted: // saving asks for the proof: into the form, for Save
		s.renderEdit(w, r, http.StatusOK, editForm{src, p, out.Patched.Config, nil, "Updated by " + out.ActionID + " in the form below. Nothing is saved yet: " +
			"the settings of this source can give its people the admin, so Save asks for proof that it is you.", "info"})
	case out.Patched != nil:
		s.showSaved(w, r, editForm{src, p, out.Patched.Config, nil, "", ""}, out.Patched.Saved, nil, "Updated by "+out.ActionID+".", http.StatusOK,
			"Updated; the settings still need attention.", "warning")
	default:
		s.renderEdit(w, r, http.StatusOK, editForm{src, p, host.Editing(src), nil, out.Message.Text, out.Message.Level})
	}
	return nil
}

func (s *sourcePages) applyChoices(w http.ResponseWriter, r *http.Request) error {
	_ = r.ParseForm()
	got, err := s.actions.ApplyChoices(r.Context(), host.ChoicesPick{SourceID: r.PathValue("id"), SessionID: sessionOf(r).ID, Values: r.PostForm["pick"]})
	switch {
	case errors.Is(err, host.ErrPluginNotLoaded):
		http.Error(w, "the plugin of this source is not loaded", http.StatusServiceUnavailable)
	case errors.Is(err, host.ErrActionStale):
		s.message(w, r, http.StatusBadRequest, "Please start again", "This choice expired.", "/admin/sources/"+r.PathValue("id"))
	case errors.Is(err, host.ErrOtherSource):
		http.Error(w, "choices of another source", http.StatusBadRequest)
	case err != nil:
		return err
	default:
		// Into the form, not saved: the admin reviews and presses Save (kept as the draft meanwhile).
		s.renderEdit(w, r, http.StatusOK, editForm{got.Source, got.Plugin, got.Config, got.Warnings,
			fmt.Sprintf("%d picked and put into the form below. Nothing is saved yet: review, then press Save.", got.Count), "info"})
	}
	return nil
}
