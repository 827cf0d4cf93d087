package web

import (
	"errors"
	"net/http"

	"github.com/plexlogin/plexlogin/host-example/notify"
)

// The admin's notifications page: where the host tells the admin what happens (targets of
// a generic webhook, ntfy or Discord), each target's kinds, whether names may go to it, its
// delivery state, and a test. notify.Notifier decides.

// notifyPages are the notification pages, behind the admin guard.
type notifyPages struct {
	*adminKit
	notify *notify.Notifier
}

const notificationsPath = "/admin/notifications"

// routes mounts the notification pages behind the admin guard (CSRF on every POST).
func (s *notifyPages) routes(m *http.ServeMux) {
	for pattern, h := range map[string]func(http.ResponseWriter, *http.Request) error{
		"GET " + notificationsPath:                   s.targetsPage,
		"GET " + notificationsPath + "/new":          s.newTargetPage,
		"POST " + notificationsPath:                  s.saveTarget,
		"GET " + notificationsPath + "/{id}":         s.editTargetPage,
		"POST " + notificationsPath + "/{id}":        s.saveTarget,
		"POST " + notificationsPath + "/{id}/delete": s.deleteTarget,
		"POST " + notificationsPath + "/{id}/test":   s.testTarget,
	} {
		m.HandleFunc(pattern, s.admin(s.handle(h)))
	}
}

// notificationsPage is notifications.html's data: the targets and their delivery state.
type notificationsPage struct {
	Head
	Flash, FlashLevel string
	Targets           []notify.Target
	Titles            map[notify.Kind]string
}

// notifyKind is a kind of notification as a tickbox.
type notifyKind struct {
	Kind    notify.Kind
	Title   string
	Checked bool
}

// notifyTargetPage is notifytarget.html's data: a target's form.
type notifyTargetPage struct {
	Head
	New    bool
	Input  notify.TargetInput
	Kinds  []notifyKind
	Errors []string
	// HasSecret: the target has a secret (the form keeps it when left empty).
	HasSecret bool
	Formats   []string
}

func (s *notifyPages) targetsPage(w http.ResponseWriter, r *http.Request) error {
	flash, level := s.takeFlash(w, r)
	ts, err := s.notify.Targets(r.Context())
	if err != nil {
		return err
	}
	s.render(w, http.StatusOK, "notifications.html", &notificationsPage{Head: Head{Title: "Notifications", Session: sessionOf(r)},
		Flash: flash, FlashLevel: level, Targets: ts, Titles: notify.Titles})
	return nil
}

func (s *notifyPages) newTargetPage(w http.ResponseWriter, r *http.Request) error {
	in := notify.TargetInput{Format: notify.Webhook, Secret: s.notify.SuggestSecret()}
	for _, k := range notify.Kinds {
		in.Kinds = append(in.Kinds, string(k))
	}
	s.renderTarget(w, r, http.StatusOK, in, nil, false)
	return nil
}

func (s *notifyPages) editTargetPage(w http.ResponseWriter, r *http.Request) error {
	t, err := s.notify.Target(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	in := notify.TargetInput{ID: t.ID, Name: t.Name, URL: t.URL, Format: t.Format, Names: t.Names}
	for _, k := range t.Kinds {
		in.Kinds = append(in.Kinds, string(k))
	}
	s.renderTarget(w, r, http.StatusOK, in, nil, t.HasSecret)
	return nil
}

// renderTarget shows a target's form (what was typed and why it was refused, if so).
func (s *notifyPages) renderTarget(w http.ResponseWriter, r *http.Request, status int, in notify.TargetInput, problems []string, hasSecret bool) {
	title := "Add a notification target"
	if in.ID != "" {
		title = "Notification target"
	}
	p := &notifyTargetPage{Head: Head{Title: title, Session: sessionOf(r)}, New: in.ID == "", Input: in, Errors: problems,
		HasSecret: hasSecret, Formats: notify.Formats}
	for _, k := range notify.Kinds {
		checked := false
		for _, c := range in.Kinds {
			checked = checked || c == string(k)
		}
		p.Kinds = append(p.Kinds, notifyKind{Kind: k, Title: notify.Titles[k], Checked: checked})
	}
	s.render(w, status, "notifytarget.html", p)
}

// targetInput is what the form says of a target (the path names the one it changes).
func targetInput(r *http.Request) notify.TargetInput {
	return notify.TargetInput{ID: r.PathValue("id"), Name: r.FormValue("name"), URL: r.FormValue("url"), Format: r.FormValue("format"),
		Kinds: r.PostForm["kinds"], Names: r.FormValue("names") != "", Secret: r.FormValue("secret"),
		ClearSecret: r.FormValue("clear_secret") != ""}
}

func (s *notifyPages) saveTarget(w http.ResponseWriter, r *http.Request) error {
	t, err := s.notify.Save(r.Context(), targetInput(r))
	var invalid *notify.InvalidTarget
	if errors.As(err, &invalid) {
		s.renderTarget(w, r, http.StatusUnprocessableEntity, invalid.Input, invalid.Problems, invalid.HasSecret)
		return nil
	}
	if err != nil {
		return err
	}
	s.redirectFlash(w, r, notificationsPath, "Saved "+t.Name+".", "info")
	return nil
}

func (s *notifyPages) deleteTarget(w http.ResponseWriter, r *http.Request) error {
	if err := s.notify.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	s.redirectFlash(w, r, notificationsPath, "Deleted the target and the messages queued for it.", "info")
	return nil
}

func (s *notifyPages) testTarget(w http.ResponseWriter, r *http.Request) error {
	err := s.notify.SendTest(r.Context(), r.PathValue("id"))
	var failed *notify.NotDelivered
	switch {
	case errors.As(err, &failed):
		s.redirectFlash(w, r, notificationsPath, "The test was not delivered: "+failed.Error()+".", "error")
	case err != nil:
		return err
	default:
		s.redirectFlash(w, r, notificationsPath, "The test was delivered.", "info")
	}
	return nil
}
