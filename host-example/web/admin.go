package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Meta keys.
const (
	metaAdminHash    = "admin_password_hash"
	metaSetupHash    = "setup_token_hash"
	metaSetupExpires = "setup_token_expires"
)

// SetupLifetime is how long a first-start setup link works.
const SetupLifetime = time.Hour

// Admin password guessing: failures only count, per client and, from browsers not known
// from an earlier admin login (admindevice.go), across all clients.
const (
	adminFailuresPerMinute    = 1
	adminFailuresBurst        = 5
	adminFailuresAllPerMinute = 6
	adminFailuresAllBurst     = 20
)

// MinAdminPassword is the shortest admin password accepted.
const MinAdminPassword = 10

// SetAdminPassword stores the admin password (bcrypt) and voids any setup link.
func SetAdminPassword(ctx context.Context, st *store.Store, password string) error {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	if err := st.SetMeta(ctx, metaAdminHash, string(h)); err != nil {
		return err
	}
	return st.SetMeta(ctx, metaSetupHash, "")
}

// CheckAdminPassword reports whether password is the admin password.
func CheckAdminPassword(ctx context.Context, st *store.Store, password string) bool {
	h, err := st.Meta(ctx, metaAdminHash)
	return err == nil && h != "" && bcrypt.CompareHashAndPassword([]byte(h), []byte(password)) == nil
}

func hasAdminPassword(ctx context.Context, st *store.Store) bool {
	h, err := st.Meta(ctx, metaAdminHash)
	return err == nil && h != ""
}

// SetupToken returns a new one-time setup token, valid for SetupLifetime, when no admin
// password exists yet ("" otherwise). Each call voids the previous token.
func SetupToken(ctx context.Context, st *store.Store) (string, error) {
	if hasAdminPassword(ctx, st) {
		return "", st.SetMeta(ctx, metaSetupHash, "")
	}
	tok := store.RandomID(16)
	h, _ := bcrypt.GenerateFromPassword([]byte(tok), bcrypt.MinCost)
	if err := st.SetMeta(ctx, metaSetupExpires, strconv.FormatInt(time.Now().Add(SetupLifetime).Unix(), 10)); err != nil {
		return "", err
	}
	return tok, st.SetMeta(ctx, metaSetupHash, string(h))
}

// setupTokenValid reports whether tok is the live setup token: no admin password yet, not
// expired, not used.
func (s *Server) setupTokenValid(ctx context.Context, tok string) bool {
	if tok == "" || hasAdminPassword(ctx, s.store) {
		return false
	}
	h, err := s.store.Meta(ctx, metaSetupHash)
	if err != nil || h == "" {
		return false
	}
	exp, _ := s.store.Meta(ctx, metaSetupExpires)
	if n, err := strconv.ParseInt(exp, 10, 64); err != nil || time.Now().Unix() > n {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(h), []byte(tok)) == nil
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, true)
	tok := r.URL.Query().Get("token")
	if !s.setupTokenValid(r.Context(), tok) {
		s.message(w, r, http.StatusForbidden, "Setup link not valid",
			"This setup link is not valid: it expired, was already used, or an admin password is set. Restart the server for a new link, or set HOST_ADMIN_PASSWORD.", "")
		return
	}
	s.render(w, http.StatusOK, "setup.html", map[string]any{"Token": tok, "Session": sess})
}

func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		http.Error(w, "bad CSRF token", http.StatusForbidden)
		return
	}
	if !s.setupTokenValid(r.Context(), r.FormValue("token")) {
		s.message(w, r, http.StatusForbidden, "Setup link not valid", "This setup link is not valid: it expired, was already used, or an admin password is set.", "")
		return
	}
	pw := r.FormValue("password")
	if len(pw) < MinAdminPassword {
		s.render(w, http.StatusBadRequest, "setup.html", map[string]any{"Token": r.FormValue("token"), "Session": sess,
			"Error": fmt.Sprintf("Choose a password of at least %d characters.", MinAdminPassword)})
		return
	}
	if err := SetAdminPassword(r.Context(), s.store, pw); err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: "admin_password_set", Reason: "setup_link"})
	if _, _, err := s.newSession(w, r, 0, true, s.cfg.SessionLifetime); err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	s.rememberAdminDevice(w, r, "")
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (s *Server) adminLoginPage(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, true)
	data := map[string]any{"Session": sess}
	if r.URL.Query().Get("signed_out") != "" {
		data["Info"] = "You are signed out of the admin."
	}
	s.render(w, http.StatusOK, "adminlogin.html", data)
}

// adminLogin checks the admin password. Only failures count: per client, and across all
// clients (a global backoff against guessing from many addresses) unless the browser is a
// known admin device, whose failures count per device instead.
func (s *Server) adminLogin(w http.ResponseWriter, r *http.Request) {
	sess, r, _ := s.session(w, r, false)
	if sess == nil || !checkCSRF(r, sess) {
		s.sessionEnded(w, r) // an old login page: ask again, keeping what it carried
		return
	}
	client, device := s.clientKey(r), s.knownDevice(r)
	if !s.adminFails.Has(client) || (device == "" && !s.adminFailsAll.Has("all")) {
		s.adminLockedOut(w, r)
		return
	}
	if !CheckAdminPassword(r.Context(), s.store, r.FormValue("password")) {
		s.adminFails.Take(client)
		if device == "" {
			s.adminFailsAll.Take("all")
		} else {
			s.adminDeviceFailed(w, r, device)
		}
		_ = s.store.AddEvent(r.Context(), store.Event{Kind: "admin_login_failed", Detail: "client " + s.clientIP(r)})
		s.render(w, http.StatusUnauthorized, "adminlogin.html", map[string]any{"Session": sess, "Error": "Wrong password.",
			"Resume": resumeTarget(r.FormValue("resume")), "Fields": keptFields(r)})
		return
	}
	newSess, r, err := s.newSession(w, r, 0, true, s.cfg.SessionLifetime)
	if err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	s.rememberAdminDevice(w, r, device)
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: "admin_login", Detail: "client " + s.clientIP(r)})
	if target := resumeTarget(r.FormValue("resume")); target != "" {
		s.render(w, http.StatusOK, "resume.html", map[string]any{"Session": newSess, "Action": target, "Fields": keptFields(r),
			"Title": "Send your changes again?"})
		return
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

type pluginRow struct {
	*Plugin
	Healthy  bool
	Restarts int
}

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) {
	var rows []pluginRow
	for _, p := range s.plugins {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		rows = append(rows, pluginRow{Plugin: p, Healthy: p.P.Ping(ctx) == nil, Restarts: p.P.Restarts()})
		cancel()
	}
	srcs, err := s.store.Sources(r.Context())
	if err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	s.render(w, http.StatusOK, "admin.html", map[string]any{"Plugins": rows, "Sources": srcs, "Session": sessionOf(r)})
}

func (s *Server) newSourcePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "newsource.html", map[string]any{"Plugins": s.plugins, "Plugin": r.URL.Query().Get("plugin"), "Session": sessionOf(r)})
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) {
	pluginID, name, slug := r.FormValue("plugin"), strings.TrimSpace(r.FormValue("name")), r.FormValue("slug")
	var errs []string
	if s.plugins[pluginID] == nil {
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
			_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: "admin_source_created", Detail: name + " (" + pluginID + ")"})
		}
		if err == nil {
			http.Redirect(w, r, "/admin/sources/"+src.ID, http.StatusSeeOther)
			return
		}
		errs = append(errs, "That slug is taken.")
	}
	s.render(w, http.StatusBadRequest, "newsource.html", map[string]any{"Plugins": s.plugins, "Plugin": pluginID, "Name": name, "Slug": slug,
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

// draftInstance is the instance of what is being edited; a draft gets its own negative
// version so the plugin never confuses it with a saved config.
func draftInstance(src *store.Source) source.Instance {
	inst := instanceOf(src)
	if src.Draft != nil {
		inst.Config = src.Draft
		inst.ConfigVersion = -int64(crc32.ChecksumIEEE(src.Draft)) - 1
	}
	return inst
}

// actionInstance is what admin actions and dry runs run against: the saved settings when
// there are any (a failed save must not break "check the owner token"), else the draft of
// a source that was never saved.
func actionInstance(src *store.Source) source.Instance {
	if src.Config != nil {
		return instanceOf(src)
	}
	return draftInstance(src)
}

func (s *Server) sourceAndPlugin(w http.ResponseWriter, r *http.Request) (*store.Source, *Plugin, bool) {
	src, err := s.store.Source(r.Context(), r.PathValue("id"))
	if err != nil {
		http.NotFound(w, r)
		return nil, nil, false
	}
	p := s.plugins[src.PluginID]
	if p == nil {
		http.Error(w, "the plugin of this source is not loaded", http.StatusServiceUnavailable)
		return nil, nil, false
	}
	return src, p, true
}

func (s *Server) renderEdit(w http.ResponseWriter, r *http.Request, status int, src *store.Source, p *Plugin, cfg map[string]any,
	errs []source.FieldError, flash, flashLevel string) {
	s.renderEditWith(w, r, status, src, p, cfg, errs, flash, flashLevel, nil)
}

// renderEditWith is renderEdit with more data for the page (a dry run's answer).
func (s *Server) renderEditWith(w http.ResponseWriter, r *http.Request, status int, src *store.Source, p *Plugin, cfg map[string]any,
	errs []source.FieldError, flash, flashLevel string, extra map[string]any) {
	var codeField string
	for _, f := range p.Schema.order {
		if p.Schema.Properties[f].Widget == "code" {
			codeField = f
		}
	}
	data := map[string]any{
		"Source": src, "Plugin": p, "Groups": p.Schema.Grouped(p.Schema.Fields(cfg, errs)), "Other": p.Schema.OtherErrors(errs),
		"Actions": p.Schema.Actions, "Flash": flash, "FlashLevel": flashLevel, "Session": sessionOf(r),
		"Draft": src.Draft != nil, "CodeField": codeField,
		"CanPreview": p.Desc.Has(source.CapMappingPreview), "CanDryRun": p.Desc.Has(source.CapRevalidate),
	}
	for k, v := range extra {
		data[k] = v
	}
	s.render(w, status, "source.html", data)
}

func (s *Server) editSource(w http.ResponseWriter, r *http.Request) {
	src, p, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	var errs []source.FieldError
	if src.Draft != nil && string(src.Draft) != "{}" {
		// Show why the draft was not saved.
		if _, err := p.P.ValidateConfig(r.Context(), draftInstance(src)); err != nil {
			errs = source.AsError(err).FieldErrors
		}
	}
	flash, level := s.takeFlash(w, r)
	s.renderEdit(w, r, http.StatusOK, src, p, current(src), errs, flash, level)
}

// validateAndStore validates cfg; a valid one is saved (new version), an invalid one kept as the draft.
func (s *Server) validateAndStore(ctx context.Context, src *store.Source, p *Plugin, cfg map[string]any) ([]source.FieldError, error) {
	raw, _ := json.Marshal(cfg)
	norm, err := p.P.ValidateConfig(ctx, source.Instance{ID: src.ID, ConfigVersion: src.ConfigVersion + 1, Config: raw, Slug: src.Slug, Name: src.Name})
	if err == nil {
		var v int64
		if v, err = s.store.SaveConfig(ctx, src.ID, norm); err == nil {
			_ = s.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: "admin_source_saved", Detail: fmt.Sprintf("%s: settings version %d", src.Name, v)})
		}
		return nil, err
	}
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

func (s *Server) saveSource(w http.ResponseWriter, r *http.Request) {
	src, p, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	cfg := p.Schema.ParseForm(r.PostForm, current(src))
	s.saveAndShow(w, r, src, p, cfg, "Saved.", http.StatusUnprocessableEntity, "Not saved: fix the fields marked below.", "error")
}

// saveAndShow validates and stores cfg, then goes back to the edit page with okFlash, or
// shows the form with its field errors (the config is then kept as the draft).
func (s *Server) saveAndShow(w http.ResponseWriter, r *http.Request, src *store.Source, p *Plugin, cfg map[string]any,
	okFlash string, invalidStatus int, invalidFlash, invalidLevel string) {
	errs, err := s.validateAndStore(r.Context(), src, p, cfg)
	if err != nil {
		s.renderEdit(w, r, http.StatusBadGateway, src, p, cfg, nil, "The plugin could not check the settings: "+source.AsError(err).UserText, "error")
		return
	}
	if errs != nil {
		src, _ = s.store.Source(r.Context(), src.ID)
		s.renderEdit(w, r, invalidStatus, src, p, cfg, errs, invalidFlash, invalidLevel)
		return
	}
	if saved, err := s.store.Source(r.Context(), src.ID); err == nil {
		if warns, err := p.P.ConfigWarnings(r.Context(), instanceOf(saved)); err == nil && len(warns) > 0 {
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
func (s *Server) discardDraft(w http.ResponseWriter, r *http.Request) {
	src, _, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	if err := s.store.DiscardDraft(r.Context(), src.ID); err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: "admin_draft_discarded"})
	s.redirectFlash(w, r, "/admin/sources/"+src.ID, "Draft discarded: the form shows the saved settings.", "info")
}

func (s *Server) setEnabled(w http.ResponseWriter, r *http.Request) {
	src, _, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	on := r.FormValue("enabled") == "1"
	if on && src.Config == nil {
		s.redirectFlash(w, r, "/admin/sources/"+src.ID, "Save valid settings before turning the source on.", "error")
		return
	}
	kind := "admin_source_disabled"
	if on {
		kind = "admin_source_enabled"
	}
	_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: store.EventKind(kind), Detail: src.Name})
	if err := s.store.SetEnabled(r.Context(), src.ID, on); err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

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

func (s *Server) runAction(w http.ResponseWriter, r *http.Request) {
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
	_ = s.store.AddEvent(r.Context(), store.Event{SourceID: src.ID, Kind: "admin_action", Reason: actionID, Detail: src.Name + ": " + actionTitle(p, actionID)})
	res, err := p.P.RunAction(r.Context(), actionInstance(src), source.ActionRequest{ActionID: actionID, Input: in,
		CallbackURL: s.callbackURL("/admin/actions/callback")})
	s.actionResult(w, r, src, p, actionID, res, err)
}

func (s *Server) actionCallback(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	ls, err := s.store.TakeLoginState(r.Context(), sess.ID, "action")
	if err != nil {
		s.message(w, r, http.StatusBadRequest, "Please start again", "This action expired or was already completed.", "/admin")
		return
	}
	var st actionState
	_ = json.Unmarshal(ls.State, &st)
	src, err := s.store.Source(r.Context(), st.SourceID)
	if err != nil || s.plugins[src.PluginID] == nil {
		http.NotFound(w, r)
		return
	}
	p := s.plugins[src.PluginID]
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = v[0]
	}
	res, err := p.P.RunAction(r.Context(), actionInstance(src), source.ActionRequest{ActionID: st.ActionID, State: st.Plugin, CallbackQuery: q})
	s.actionResult(w, r, src, p, st.ActionID, res, err)
}

// actionResult runs a redirect like a login, shows choices, applies a patch or shows a message.
func (s *Server) actionResult(w http.ResponseWriter, r *http.Request, src *store.Source, p *Plugin, actionID string, res source.ActionResult, err error) {
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
		exp := capExpiry(res.Redirect.ExpiresAt, 30*time.Minute)
		if _, err := s.store.PutLoginState(ctx, store.LoginState{SessionID: sess.ID, SourceID: src.ID, Kind: "action", ActionID: actionID,
			State: st, ExpiresAt: exp}); err != nil {
			http.Error(w, "database error", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, res.Redirect.URL, http.StatusSeeOther)
	case res.Choices != nil:
		st, _ := json.Marshal(choicesState{SourceID: src.ID, Field: res.Choices.Field, Options: res.Choices.Options, Patch: res.Choices.Patch})
		if _, err := s.store.PutLoginState(ctx, store.LoginState{SessionID: sess.ID, SourceID: src.ID, Kind: "choices", State: st,
			ExpiresAt: time.Now().Add(30 * time.Minute)}); err != nil {
			http.Error(w, "database error", http.StatusInternalServerError)
			return
		}
		picked := map[string]bool{}
		if list, ok := current(src)[res.Choices.Field].([]any); ok {
			for _, x := range list {
				if m, ok := x.(map[string]any); ok {
					for _, v := range m {
						picked[scalar(v)] = true
					}
				} else {
					picked[scalar(x)] = true
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
		s.saveAndShow(w, r, src, p, cfg, "Updated by "+actionID+".", http.StatusOK, "Updated; the settings still need attention.", "warning")
	case res.Message != nil:
		s.renderEdit(w, r, http.StatusOK, src, p, current(src), nil, res.Message.Text, res.Message.Level)
	default:
		s.renderEdit(w, r, http.StatusOK, src, p, current(src), nil, "The action returned nothing.", "warning")
	}
}

func (s *Server) applyChoices(w http.ResponseWriter, r *http.Request) {
	src, p, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	ls, err := s.store.TakeLoginState(r.Context(), sessionOf(r).ID, "choices")
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
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	src, _ = s.store.Source(r.Context(), src.ID)
	var warn []source.FieldError
	if _, err := p.P.ValidateConfig(r.Context(), draftInstance(src)); err != nil {
		warn = source.AsError(err).FieldErrors
	}
	s.renderEdit(w, r, http.StatusOK, src, p, cfg, warn, fmt.Sprintf("%d picked and put into the form below. Nothing is saved yet: review, then press Save.",
		len(picked)), "info")
}

// preview is the mapping editor's live preview (JSON in, JSON out).
func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	src, p, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	var in struct {
		Field  string `json:"field"`
		Text   string `json:"text"`
		Sample string `json:"sample"`
		// Person is a username or id: their last login's document when the host has one,
		// else (an id) the owner-side view of them.
		Person string `json:"person"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	draft, _ := json.Marshal(map[string]string{in.Field: in.Text})
	req := source.PreviewRequest{Mappings: draft}
	from := "the pasted document"
	switch person := strings.TrimSpace(in.Person); {
	case person != "":
		u, err := s.store.FindUser(r.Context(), src.ID, person)
		switch {
		case err == nil && len(u.PreviewSample) > 0:
			req.Sample = json.RawMessage(u.PreviewSample)
			from = fmt.Sprintf("%s's last login (%s UTC)", nameOf(u.Username, u.Name), u.LastLoginAt.UTC().Format("2006-01-02 15:04"))
		case isDigits(person) || err == nil:
			req.SampleUserID = person
			if err == nil {
				req.SampleUserID = u.Subject
			}
			from = "the owner's list of users (what it cannot know is marked unknown)"
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"error": "No one called " + person + " has logged in here yet. Enter their id to preview them from the owner's list."})
			return
		}
	case strings.TrimSpace(in.Sample) != "":
		req.Sample = json.RawMessage(in.Sample)
	default:
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "Enter a person (username or id), or paste a document."})
		return
	}
	res, err := p.P.PreviewMapping(r.Context(), draftInstance(src), req)
	if err != nil {
		se := source.AsError(err)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": strings.TrimSpace(se.UserText + " " + se.AdminDetail)})
		return
	}
	out := map[string]any{"errors": res.Errors, "from": from}
	if len(res.Errors) == 0 {
		out["identity"] = map[string]any{"name": res.Identity.Name, "preferred_username": res.Identity.PreferredUsername,
			"email": res.Identity.Email, "email_verified": res.Identity.EmailVerified, "groups": res.Identity.Groups,
			"attributes": attributeRows(res.Identity.Attributes), "allowed": res.Identity.Decision.Allowed,
			"denied_text": res.Identity.Decision.UserText}
		out["unknown"] = res.Unknown
	}
	_ = json.NewEncoder(w).Encode(out)
}

// isDigits reports whether s is a non-empty run of ASCII digits (an id rather than a name).
func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// dryRunResult is a dry run's answer, in words, shown beside its form.
type dryRunResult struct {
	Who, Verdict, Level, Text, Detail, Reason string
	// User is the person's last login here (their groups and attributes), when there is one.
	User *store.User
}

// dryRun answers "would this person get in now?" from the plugin's re-validation: by
// username or id; a person who logged in here is checked with their own stored state.
func (s *Server) dryRun(w http.ResponseWriter, r *http.Request) {
	src, p, ok := s.sourceAndPlugin(w, r)
	if !ok {
		return
	}
	who := strings.TrimSpace(r.FormValue("who"))
	if who == "" {
		who = strings.TrimSpace(r.FormValue("sub"))
	}
	res := dryRunResult{Who: who}
	req := source.RevalidateRequest{Subject: who}
	if u, err := s.store.FindUser(r.Context(), src.ID, who); err == nil {
		res.User, req.Subject, req.State = u, u.Subject, u.Revalidation
		res.Who = fmt.Sprintf("%s (id %s)", nameOf(u.Name, u.Username), u.Subject)
	}
	switch {
	case who == "":
		res.Verdict, res.Level = "Enter a username or an id.", "warning"
	case res.User == nil && !isDigits(who):
		res.Verdict, res.Level = "No one called "+who+" has logged in here yet.", "warning"
		res.Text = "Enter their id (for Plex, the number in their profile's address) to check them before their first login."
	default:
		rv, err := p.P.Revalidate(r.Context(), actionInstance(src), req)
		switch {
		case err != nil:
			se := source.AsError(err)
			res.Verdict, res.Level, res.Text, res.Detail, res.Reason = "Could not be checked now.", "warning", se.UserText, se.AdminDetail, se.ReasonCode
		case rv.Status == source.RevalidationAllowed:
			res.Verdict, res.Level = "Would get in.", "info"
		case rv.Status == source.RevalidationRevoked:
			res.Verdict, res.Level = "Would not get in.", "error"
		default:
			res.Verdict, res.Level = "Could not be decided now.", "warning"
		}
		if err == nil {
			res.Text, res.Detail, res.Reason = rv.Decision.UserText, rv.Decision.AdminDetail, rv.Decision.ReasonCode
		}
		if res.User == nil {
			res.Text = strings.TrimSpace(res.Text + " They have not logged in here yet.")
		}
	}
	s.renderEditWith(w, r, http.StatusOK, src, p, current(src), nil, "", "", map[string]any{"DryRun": res})
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	users, err := s.store.Users(r.Context())
	if err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	srcs, _ := s.store.Sources(r.Context())
	names := map[string]string{}
	for _, src := range srcs {
		names[src.ID] = src.Name
	}
	s.render(w, http.StatusOK, "users.html", map[string]any{"Users": users, "Names": names, "Session": sessionOf(r)})
}

func (s *Server) setUserDisabled(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	disable := r.FormValue("disabled") == "1"
	if u, err := s.store.User(r.Context(), id); err == nil {
		kind := "admin_user_enabled"
		if disable {
			kind = "admin_user_disabled"
		}
		_ = s.store.AddEvent(r.Context(), store.Event{SourceID: u.SourceID, Kind: store.EventKind(kind), Subject: u.Subject, Name: nameOf(u.Username, u.Name)})
	}
	if err := s.store.SetDisabled(r.Context(), id, disable, store.DisabledByAdmin); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

func (s *Server) eventsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	evs, err := s.store.Events(r.Context(), 300, q)
	if err != nil {
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	srcs, _ := s.store.Sources(r.Context())
	names := map[string]string{}
	for _, src := range srcs {
		names[src.ID] = src.Name
	}
	rows := make([]eventRow, 0, len(evs))
	for _, e := range evs {
		rows = append(rows, eventRowOf(e, names[e.SourceID]))
	}
	s.render(w, http.StatusOK, "events.html", map[string]any{"Events": rows, "Query": q, "Session": sessionOf(r)})
}
