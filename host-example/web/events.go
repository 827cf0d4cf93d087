package web

import (
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// eventRow is one event as the events page shows it.
type eventRow struct {
	At       time.Time
	What     string
	Level    string // "ok", "refused", "admin" or "" (a colour on the page)
	Who      string
	Subject  string
	Source   string
	Reason   string
	Detail   string
	Refusal  bool
	Internal string // the raw kind, for searching and support
}

// eventWords names each kind of event in words, with the page's colour for it.
var eventWords = map[string][2]string{
	"login_allowed":              {"Signed in", "ok"},
	"login_denied":               {"Refused", "refused"},
	"login_failed":               {"Login failed", "refused"},
	"oidc_denied":                {"Refused by an application's groups", "refused"},
	"user_revoked":               {"Access removed at re-validation", "refused"},
	"admin_login":                {"Admin signed in", "admin"},
	"admin_login_failed":         {"Wrong admin password", "refused"},
	"admin_password_set":         {"Admin password set", "admin"},
	"admin_password_reset":       {"Admin password reset", "admin"},
	"admin_security_changed":     {"Admin sign-in changed", "admin"},
	"admin_source_created":       {"Source created", "admin"},
	"admin_source_saved":         {"Settings saved", "admin"},
	"admin_source_enabled":       {"Source turned on", "admin"},
	"admin_source_disabled":      {"Source turned off", "admin"},
	"admin_draft_discarded":      {"Draft discarded", "admin"},
	"admin_action":               {"Admin action run", "admin"},
	"admin_user_disabled":        {"User disabled by the admin", "admin"},
	"admin_user_enabled":         {"User enabled by the admin", "admin"},
	"admin_client_created":       {"Application added", "admin"},
	"admin_client_changed":       {"Application changed", "admin"},
	"admin_client_deleted":       {"Application deleted", "admin"},
	"admin_forward_rule_saved":   {"Protected app saved", "admin"},
	"admin_forward_rule_deleted": {"Protected app deleted", "admin"},
	"admin_user_deleted":         {"Person deleted by the admin", "admin"},
	"admin_source_deleted":       {"Source deleted", "admin"},
	"admin_access_revoked":       {"Access ended by the admin", "admin"},
}

// eventRowOf puts an event in words; an unknown kind reads as its name with spaces.
func eventRowOf(e store.Event, sourceName string) eventRow {
	row := eventRow{At: e.At, Who: e.Name, Subject: e.Subject, Source: sourceName, Reason: e.Reason, Detail: e.Detail, Internal: string(e.Kind)}
	if w, ok := eventWords[string(e.Kind)]; ok {
		row.What, row.Level = w[0], w[1]
	} else if action, ok := strings.CutPrefix(string(e.Kind), "health_"); ok {
		row.What = "Health check " + strings.ReplaceAll(action, "_", " ") + ": " + e.Reason
	} else {
		row.What = strings.ReplaceAll(string(e.Kind), "_", " ")
	}
	row.Refusal = row.Level == "refused"
	return row
}

// actionTitle is an action's title from the plugin's schema (its id when unknown).
func actionTitle(p *host.Plugin, id string) string {
	for _, a := range p.Schema.Actions {
		if a.ID == id && a.Title != "" {
			return a.Title
		}
	}
	return id
}
