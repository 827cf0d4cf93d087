package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/settings"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Admin pages of the sources: create, edit, save, discard a draft, turn on and off.

// newSourceForm is newsource.html's data.
type newSourceForm struct {
	Head
	Plugins            map[string]*host.Plugin
	Plugin, Name, Slug string
	Errors             []string
}

func (s *sourcePages) newSourcePage(w http.ResponseWriter, r *http.Request) error {
	s.render(w, http.StatusOK, "newsource.html", &newSourceForm{Head: Head{Session: sessionOf(r)}, Plugins: s.plugins.All(),
		Plugin: r.URL.Query().Get("plugin")})
	return nil
}

func (s *sourcePages) createSource(w http.ResponseWriter, r *http.Request) error {
	n := host.NewSource{Plugin: r.FormValue("plugin"), Name: strings.TrimSpace(r.FormValue("name")), Slug: r.FormValue("slug")}
	src, err := s.sources.Create(r.Context(), n)
	var form *host.FormError
	if errors.As(err, &form) {
		s.render(w, http.StatusBadRequest, "newsource.html", &newSourceForm{Head: Head{Session: sessionOf(r)}, Plugins: s.plugins.All(),
			Plugin: n.Plugin, Name: n.Name, Slug: n.Slug, Errors: form.Problems})
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/sources/"+src.ID, http.StatusSeeOther)
	return nil
}

// sourceAndPlugin is the source the path names and its plugin. When the plugin is not
// loaded it answers 503 itself and returns no source and no error; other errors (the source
// not found, the store) are the caller's to return.
func (s *sourcePages) sourceAndPlugin(w http.ResponseWriter, r *http.Request) (*store.Source, *host.Plugin, error) {
	src, p, err := s.sources.Editable(r.Context(), r.PathValue("id"))
	if errors.Is(err, host.ErrPluginNotLoaded) {
		http.Error(w, "the plugin of this source is not loaded", http.StatusServiceUnavailable)
		return nil, nil, nil
	}
	return src, p, err
}

// sourceEditPage is source.html's data: a source's settings form, its actions, the
// mapping preview and the dry run.
type sourceEditPage struct {
	Head
	Source     *store.Source
	Plugin     *host.Plugin
	Groups     []settings.FieldGroup
	Other      []source.FieldError
	Actions    []settings.Action
	Flash      string
	FlashLevel string
	// Draft is set when the form shows unsaved settings.
	Draft     bool
	CodeField string
	// CanPreview and CanDryRun are set when the plugin previews mappings and re-validates.
	CanPreview, CanDryRun bool
	// Proof is the proof form saving asks for (nil: none): proofForm's data, whatever its type.
	Proof any
	// DryRun is a dry run's answer (nil: none yet), DryRunWho the person in its form.
	DryRun    *dryRunResult
	DryRunWho string
	// Renewals are the source's credentials that expire (renewals.html).
	Renewals host.Renewals
}

// editForm is the edit page of src with the form showing cfg and its field errors.
type editForm struct {
	src               *store.Source
	p                 *host.Plugin
	cfg               map[string]any
	errs              []source.FieldError
	flash, flashLevel string
}

// renderEdit answers the edit page of f with status; more fills the dry run's part.
func (s *sourcePages) renderEdit(w http.ResponseWriter, r *http.Request, status int, f editForm, more ...func(*sourceEditPage)) {
	p := f.p
	data := &sourceEditPage{Head: Head{Session: sessionOf(r)}, Source: f.src, Plugin: p,
		Groups: p.Schema.Grouped(p.Schema.Fields(f.cfg, f.errs)), Other: p.Schema.OtherErrors(f.errs), Actions: p.Schema.Actions,
		Flash: f.flash, FlashLevel: f.flashLevel, Draft: f.src.Draft != nil, CodeField: p.Schema.CodeField(),
		CanPreview: p.Desc.Has(source.CapMappingPreview), CanDryRun: p.Desc.Has(source.CapRevalidate), Renewals: s.sources.Renewals(r.Context(), f.src, time.Now())}
	if s.grantReachesSource(r, f.src.ID) {
		data.Proof = s.proofForm(r)
	}
	for _, m := range more {
		m(data)
	}
	s.render(w, status, "source.html", data)
}

func (s *sourcePages) editSource(w http.ResponseWriter, r *http.Request) error {
	src, p, err := s.sourceAndPlugin(w, r)
	if src == nil {
		return err
	}
	// Show why the draft was not saved.
	errs := host.DraftErrors(r.Context(), src, p)
	flash, level := s.takeFlash(w, r)
	s.renderEdit(w, r, http.StatusOK, editForm{src, p, host.Editing(src), errs, flash, level})
	return nil
}

func (s *sourcePages) saveSource(w http.ResponseWriter, r *http.Request) error {
	src, p, err := s.sourceAndPlugin(w, r)
	if src == nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil
	}
	if s.grantReachesSource(r, src.ID) {
		if _, ok := s.proofOrAsk(w, r, "The settings of "+src.Name+" decide the groups of its people, and a group of theirs can open the admin."); !ok {
			return nil
		}
	}
	cfg := p.Schema.ParseForm(r.PostForm, host.Editing(src))
	saved, err := s.sources.SaveSettings(r.Context(), src, p, cfg)
	s.showSaved(w, r, editForm{src, p, cfg, nil, "", ""}, saved, err, "Saved.", http.StatusUnprocessableEntity, "Not saved: fix the fields marked below.", "error")
	return nil
}

// showSaved answers how saving f's settings went: back to the edit page with okFlash (and
// the plugin's warnings), or the form with its field errors (the settings are then kept as
// the draft), or the plugin could not check them.
func (s *sourcePages) showSaved(w http.ResponseWriter, r *http.Request, f editForm, saved host.Saved, err error,
	okFlash string, invalidStatus int, invalidFlash, invalidLevel string) {
	if err != nil {
		s.renderEdit(w, r, http.StatusBadGateway, uncheckedForm(f, err))
		return
	}
	if saved.Errors != nil {
		f.src, f.errs, f.flash, f.flashLevel = saved.Source, saved.Errors, invalidFlash, invalidLevel
		s.renderEdit(w, r, invalidStatus, f)
		return
	}
	okFlash += s.grantChanges(r.Context(), f.src.ID, f.p)
	if len(saved.Warnings) > 0 {
		s.redirectFlash(w, r, "/admin/sources/"+f.src.ID, okFlash+" Warning: "+strings.Join(saved.Warnings, " "), "warning")
		return
	}
	s.redirectFlash(w, r, "/admin/sources/"+f.src.ID, okFlash, "info")
}

// uncheckedForm is f saying the plugin could not check its settings (err).
func uncheckedForm(f editForm, err error) editForm {
	var unchecked *host.UncheckedError
	if errors.As(err, &unchecked) {
		err = unchecked.Err
	}
	f.flash, f.flashLevel = "The plugin could not check the settings: "+source.AsError(err).UserText, "error"
	return f
}

// discardDraft drops the unsaved settings; the saved ones stay as they are.
func (s *sourcePages) discardDraft(w http.ResponseWriter, r *http.Request) error {
	src, _, err := s.sourceAndPlugin(w, r)
	if src == nil {
		return err
	}
	if err := s.sources.DiscardDraft(r.Context(), src); err != nil {
		return err
	}
	s.redirectFlash(w, r, "/admin/sources/"+src.ID, "Draft discarded: the form shows the saved settings.", "info")
	return nil
}

func (s *sourcePages) setEnabled(w http.ResponseWriter, r *http.Request) error {
	src, _, err := s.sourceAndPlugin(w, r)
	if src == nil {
		return err
	}
	on := r.FormValue("enabled") == "1"
	var approve func() bool
	if on && s.turningOnReachesGrant(r, src.ID) {
		approve = func() bool {
			_, ok := s.proofOrAsk(w, r, "Turning "+src.Name+" on lets its people sign in with the groups they have, and a group of theirs can open the admin.")
			return ok
		}
	}
	switch err := s.sources.SetEnabled(r.Context(), src, on, approve); {
	case errors.Is(err, host.ErrNotApproved): // answered by proofOrAsk
	case errors.Is(err, host.ErrNoSettings):
		s.redirectFlash(w, r, "/admin/sources/"+src.ID, "Save valid settings before turning the source on.", "error")
	case errors.Is(err, host.ErrLastWayIn):
		s.redirectFlash(w, r, "/admin/sources/"+src.ID, "Not turned off: "+err.Error()+".", "error")
	case err != nil:
		return err
	default:
		http.Redirect(w, r, afterAction(r, "/admin"), http.StatusSeeOther)
	}
	return nil
}
