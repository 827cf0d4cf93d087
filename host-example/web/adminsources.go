package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Admin pages of the sources: create, edit, save, discard a draft, turn on and off.

func (s *sourcePages) newSourcePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "newsource.html", map[string]any{"Plugins": s.plugins.All(), "Plugin": r.URL.Query().Get("plugin"), "Session": sessionOf(r)})
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

func (s *sourcePages) createSource(w http.ResponseWriter, r *http.Request) {
	pluginID, name, slug := r.FormValue("plugin"), strings.TrimSpace(r.FormValue("name")), r.FormValue("slug")
	var errs []string
	if s.plugins.Get(pluginID) == nil {
		errs = append(errs, "Pick a plugin.")
	}
	if name == "" {
		errs = append(errs, "Give the source a name.")
	}
	if !slugRE.MatchString(slug) {
		errs = append(errs, "The slug is 1 to 40 lowercase letters, digits and dashes.")
	}
	if len(errs) == 0 {
		src, err := s.store.CreateSource(r.Context(), pluginID, slug, name)
		if err == nil {
			_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: store.EventAdminSourceCreated, Detail: name + " (" + pluginID + ")"})
		}
		if err == nil {
			http.Redirect(w, r, "/admin/sources/"+src.ID, http.StatusSeeOther)
			return
		}
		errs = append(errs, "That slug is taken.")
	}
	s.render(w, http.StatusBadRequest, "newsource.html", map[string]any{"Plugins": s.plugins.All(), "Plugin": pluginID, "Name": name, "Slug": slug,
		"Errors": errs, "Session": sessionOf(r)})
}

// current is the config the admin is editing: the draft if any, else the saved one.
func current(src *store.Source) map[string]any {
	cfg := map[string]any{}
	raw := src.Draft
	if raw == nil {
		raw = src.Config
	}
	_ = json.Unmarshal(raw, &cfg)
	return cfg
}

func (s *sourcePages) sourceAndPlugin(w http.ResponseWriter, r *http.Request) (*store.Source, *host.Plugin, bool) {
	src, err := s.store.Source(r.Context(), r.PathValue("id"))
	if err != nil {
		http.NotFound(w, r)
		return nil, nil, false
	}
	p := s.plugins.Get(src.PluginID)
	if p == nil {
		http.Error(w, "the plugin of this source is not loaded", http.StatusServiceUnavailable)
		return nil, nil, false
	}
	return src, p, true
}

func (s *sourcePages) renderEdit(w http.ResponseWriter, r *http.Request, status int, src *store.Source, p *host.Plugin, cfg map[string]any,
	errs []source.FieldError, flash, flashLevel string) {
	s.renderEditWith(w, r, status, src, p, cfg, errs, flash, flashLevel, nil)
}

// renderEditWith is renderEdit with more data for the page (a dry run's answer).
func (s *sourcePages) renderEditWith(w http.ResponseWriter, r *http.Request, status int, src *store.Source, p *host.Plugin, cfg map[string]any,
	errs []source.FieldError, flash, flashLevel string, extra map[string]any) {
	codeField := p.Schema.CodeField()
	data := map[string]any{
		"Source": src, "Plugin": p, "Groups": p.Schema.Grouped(p.Schema.Fields(cfg, errs)), "Other": p.Schema.OtherErrors(errs),
		"Actions": p.Schema.Actions, "Flash": flash, "FlashLevel": flashLevel, "Session": sessionOf(r),
		"Draft": src.Draft != nil, "CodeField": codeField,
		"CanPreview": p.Desc.Has(source.CapMappingPreview), "CanDryRun": p.Desc.Has(source.CapRevalidate),
	}
	if s.grantReachesSource(r, src.ID) {
		data["Proof"] = s.proofForm(r)
	}
	for k, v := range extra {
		data[k] = v
	}
	s.render(w, status, "source.html", data)
}

func (s *sourcePages) editSource(w http.ResponseWriter, r *http.Request) {
	src, p, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	var errs []source.FieldError
	if src.Draft != nil && string(src.Draft) != "{}" {
		// Show why the draft was not saved.
		if _, err := p.P.ValidateConfig(r.Context(), host.Draft(src)); err != nil {
			errs = source.AsError(err).FieldErrors
		}
	}
	flash, level := s.takeFlash(w, r)
	s.renderEdit(w, r, http.StatusOK, src, p, current(src), errs, flash, level)
}

func (s *sourcePages) saveSource(w http.ResponseWriter, r *http.Request) {
	src, p, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if s.grantReachesSource(r, src.ID) {
		if _, ok := s.proofOrAsk(w, r, "The settings of "+src.Name+" decide the groups of its people, and a group of theirs can open the admin."); !ok {
			return
		}
	}
	cfg := p.Schema.ParseForm(r.PostForm, current(src))
	s.saveAndShow(w, r, src, p, cfg, "Saved.", http.StatusUnprocessableEntity, "Not saved: fix the fields marked below.", "error")
}

// saveAndShow validates and stores cfg, then goes back to the edit page with okFlash, or
// shows the form with its field errors (the config is then kept as the draft).
func (s *sourcePages) saveAndShow(w http.ResponseWriter, r *http.Request, src *store.Source, p *host.Plugin, cfg map[string]any,
	okFlash string, invalidStatus int, invalidFlash, invalidLevel string) {
	errs, err := s.sources.Save(r.Context(), src, cfg)
	if err != nil {
		s.renderEdit(w, r, http.StatusBadGateway, src, p, cfg, nil, "The plugin could not check the settings: "+source.AsError(err).UserText, "error")
		return
	}
	if errs != nil {
		src, _ = s.store.Source(r.Context(), src.ID)
		s.renderEdit(w, r, invalidStatus, src, p, cfg, errs, invalidFlash, invalidLevel)
		return
	}
	okFlash += s.grantChanges(r.Context(), src.ID, p)
	if saved, err := s.store.Source(r.Context(), src.ID); err == nil {
		if warns, err := p.P.ConfigWarnings(r.Context(), host.Instance(saved)); err == nil && len(warns) > 0 {
			var texts []string
			for _, wn := range warns {
				texts = append(texts, wn.Message)
			}
			s.redirectFlash(w, r, "/admin/sources/"+src.ID, okFlash+" Warning: "+strings.Join(texts, " "), "warning")
			return
		}
	}
	s.redirectFlash(w, r, "/admin/sources/"+src.ID, okFlash, "info")
}

// discardDraft drops the unsaved settings; the saved ones stay as they are.
func (s *sourcePages) discardDraft(w http.ResponseWriter, r *http.Request) {
	src, _, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	if err := s.store.DiscardDraft(r.Context(), src.ID); err != nil {
		dbunavailable.Answer(w)
		return
	}
	_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: store.EventAdminDraftDiscarded})
	s.redirectFlash(w, r, "/admin/sources/"+src.ID, "Draft discarded: the form shows the saved settings.", "info")
}

func (s *sourcePages) setEnabled(w http.ResponseWriter, r *http.Request) {
	src, _, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	on := r.FormValue("enabled") == "1"
	if on && src.Config == nil {
		s.redirectFlash(w, r, "/admin/sources/"+src.ID, "Save valid settings before turning the source on.", "error")
		return
	}
	if err := s.adm.CheckWayInKept(r.Context(), src.ID, nil); !on && err != nil {
		s.redirectFlash(w, r, "/admin/sources/"+src.ID, "Not turned off: "+err.Error()+".", "error")
		return
	}
	if on && s.grantReachesSource(r, src.ID) {
		if _, ok := s.proofOrAsk(w, r, "Turning "+src.Name+" on lets its people sign in with the groups they have, and a group of theirs can open the admin."); !ok {
			return
		}
	}
	kind := store.EventAdminSourceDisabled
	if on {
		kind = store.EventAdminSourceEnabled
	}
	_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: kind, Detail: src.Name})
	if err := s.store.SetEnabled(r.Context(), src.ID, on); err != nil {
		dbunavailable.Answer(w)
		return
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}
