package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// eventsPerPage is how many events the events page shows at a time.
const eventsPerPage = 50

// eventRow is one event as the events page shows it.
type eventRow struct {
	ID       int64
	At       time.Time
	What     string
	Level    string // "ok", "refused", "admin" or "" (a colour on the page)
	Who      string
	Subject  string
	SourceID string
	Source   string
	// Reason is the reason code; ReasonWords it in words.
	Reason, ReasonWords string
	// Facts are the detail as a short list of sentences.
	Facts   []fact
	Refusal bool
	// CheckURL opens the source's dry run for the person of a refusal ("" when it cannot).
	CheckURL string
	Internal string // the raw kind, for searching and support
}

// eventWords names each kind of event in words, with the page's colour for it.
var eventWords = map[string][2]string{
	"login_allowed":              {"Signed in", "ok"},
	"login_denied":               {"Refused", "refused"},
	"login_failed":               {"Login failed", "refused"},
	"oidc_denied":                {"Refused by an application's groups", "refused"},
	"user_revoked":               {"Access removed at re-validation", "refused"},
	"signed_out_everywhere":      {"Signed out everywhere", ""},
	"session_ended":              {"Ended one of their sessions", ""},
	"credential_revoked":         {"Signed out upstream", ""},
	"credential_handed_over":     {"Sign-in handed to an app", ""},
	"admin_login":                {"Admin signed in", "admin"},
	"admin_login_failed":         {"Wrong admin password", "refused"},
	"admin_device_locked":        {"Browser locked out of the admin sign-in", "refused"},
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
	"admin_user_changed":         {"Person changed by the admin", "admin"},
	"admin_notify_saved":         {"Notification target saved", "admin"},
	"admin_notify_deleted":       {"Notification target deleted", "admin"},
}

// eventGroup is a group of kinds the events page filters by, in words.
type eventGroup struct {
	ID, Title string
	Kinds     []store.EventKind
	// Health: the group is every health check's events.
	Health bool
}

// eventGroups are the filter's groups of kinds; every kind of eventWords is in one.
var eventGroups = []eventGroup{
	{ID: "sign-ins", Title: "Sign-ins", Kinds: []store.EventKind{store.EventLoginAllowed, store.EventAdminLogin, store.EventCredentialHandedOver}},
	{ID: "refusals", Title: "Refusals and failures", Kinds: []store.EventKind{store.EventLoginDenied, store.EventLoginFailed,
		store.EventOIDCDenied, store.EventUserRevoked, store.EventAdminLoginFailed, store.EventAdminDeviceLocked}},
	{ID: "sign-outs", Title: "Sign-outs", Kinds: []store.EventKind{store.EventSignedOutEverywhere, store.EventSessionEnded, store.EventCredentialRevoked}},
	{ID: "admin", Title: "Admin changes", Kinds: []store.EventKind{store.EventAdminPasswordSet, store.EventAdminPasswordReset,
		store.EventAdminSourceCreated, store.EventAdminSourceSaved, store.EventAdminSourceEnabled, store.EventAdminSourceDisabled,
		store.EventAdminDraftDiscarded, store.EventAdminAction, store.EventAdminUserDisabled, store.EventAdminUserEnabled,
		store.EventAdminClientCreated, store.EventAdminClientChanged, store.EventAdminClientDeleted,
		store.EventAdminForwardRuleSaved, store.EventAdminForwardRuleDeleted, store.EventAdminSecurityChanged,
		store.EventAdminUserDeleted, store.EventAdminSourceDeleted, store.EventAdminAccessRevoked, store.EventAdminUserChanged,
		store.EventAdminNotifySaved, store.EventAdminNotifyDeleted}},
	{ID: "health", Title: "Health checks", Health: true},
}

// eventRowOf puts an event in words; an unknown kind reads as its name with spaces.
func eventRowOf(e store.Event, sourceName string) eventRow {
	row := eventRow{ID: e.ID, At: e.At, Who: e.Name, Subject: e.Subject, SourceID: e.SourceID, Source: sourceName, Reason: e.Reason,
		ReasonWords: reasonWords(e.Reason), Facts: factsOf(e.Detail), Internal: string(e.Kind)}
	if w, ok := eventWords[string(e.Kind)]; ok {
		row.What, row.Level = w[0], w[1]
		if e.Kind == store.EventAdminAction {
			row.ReasonWords = "" // the action's id: its title is in the detail
		}
	} else if action, ok := e.Kind.HealthAction(); ok {
		row.What = "Health check " + strings.ReplaceAll(action, "_", " ") + ": " + e.Reason
		row.ReasonWords = "" // said in What
	} else {
		row.What = strings.ReplaceAll(string(e.Kind), "_", " ")
	}
	row.Refusal = row.Level == "refused"
	return row
}

// eventFilterOf reads the events page's filters (kind, source, person, q) and page (before, after).
func eventFilterOf(q url.Values) store.EventFilter {
	f := store.EventFilter{SourceID: q.Get("source"), Person: strings.TrimSpace(q.Get("person")), Query: q.Get("q"), Limit: eventsPerPage}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	f.After, _ = strconv.ParseInt(q.Get("after"), 10, 64)
	kind := q.Get("kind")
	for _, g := range eventGroups {
		if g.ID == kind {
			f.Kinds, f.Health = g.Kinds, g.Health
			return f
		}
	}
	if _, ok := eventWords[kind]; ok {
		f.Kinds = []store.EventKind{store.EventKind(kind)}
	} else if _, ok := store.EventKind(kind).HealthAction(); ok {
		f.Kinds = []store.EventKind{store.EventKind(kind)}
	}
	return f
}

// kindChoice is an option of the kind filter; a group's own option comes first in it.
type kindChoice struct {
	Value, Label string
	Selected     bool
}

// kindOptgroup is a group of the kind filter's options.
type kindOptgroup struct {
	Title   string
	Choices []kindChoice
}

// kindChoices are the kind filter's options, grouped as eventGroups, with selected chosen.
func kindChoices(selected string) []kindOptgroup {
	out := make([]kindOptgroup, len(eventGroups))
	for i, g := range eventGroups {
		out[i].Title = g.Title
		out[i].Choices = append(out[i].Choices, kindChoice{Value: g.ID, Label: "All " + strings.ToLower(g.Title), Selected: selected == g.ID})
		for _, k := range g.Kinds {
			out[i].Choices = append(out[i].Choices, kindChoice{Value: string(k), Label: eventWords[string(k)][0], Selected: selected == string(k)})
		}
	}
	return out
}

// pageURL is the events page with the filters of q and a page bound (before or after an id).
func pageURL(q url.Values, bound string, id int64) string {
	v := url.Values{}
	for _, k := range []string{"kind", "source", "person", "q"} {
		if q.Get(k) != "" {
			v.Set(k, q.Get(k))
		}
	}
	v.Set(bound, strconv.FormatInt(id, 10))
	return "/admin/events?" + v.Encode()
}

// eventsPage is events.html's data.
type eventsPage struct {
	Head
	Events []eventRow
	// Query, Person, SourceID and Kind are the filters asked; Filtered: any is.
	Query, Person, SourceID, Kind string
	Filtered                      bool
	Kinds                         []kindOptgroup
	// Sources are the sources' names by id.
	Sources map[string]string
	// NewerURL and OlderURL page on ("" at an end).
	NewerURL, OlderURL string
}

func (s *peoplePages) eventsPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, err := s.events.Page(r.Context(), eventFilterOf(q))
	if err != nil {
		return err
	}
	srcs, checkable := s.eventSources(r.Context())
	rows := make([]eventRow, 0, len(page.Events))
	for _, e := range page.Events {
		row := eventRowOf(e, srcs[e.SourceID])
		if row.Refusal && e.Subject != "" && checkable[e.SourceID] {
			row.CheckURL = "/admin/sources/" + url.PathEscape(e.SourceID) + "/dryrun?" + url.Values{"who": {e.Subject}}.Encode() + "#dryrun-card"
		}
		rows = append(rows, row)
	}
	data := &eventsPage{Head: Head{Session: sessionOf(r)}, Events: rows, Query: q.Get("q"), Person: q.Get("person"), SourceID: q.Get("source"),
		Kind: q.Get("kind"), Kinds: kindChoices(q.Get("kind")), Sources: srcs,
		Filtered: q.Get("q") != "" || q.Get("person") != "" || q.Get("source") != "" || q.Get("kind") != ""}
	if len(rows) > 0 && page.Newer {
		data.NewerURL = pageURL(q, "after", rows[0].ID)
	}
	if len(rows) > 0 && page.Older {
		data.OlderURL = pageURL(q, "before", rows[len(rows)-1].ID)
	}
	s.render(w, http.StatusOK, "events.html", data)
	return nil
}

// eventSources are the sources' names by id, and which can be dry-run (their plugin re-validates).
func (s *peoplePages) eventSources(ctx context.Context) (names map[string]string, checkable map[string]bool) {
	names, checkable = map[string]string{}, map[string]bool{}
	srcs, _ := s.sources.List(ctx)
	for _, src := range srcs {
		names[src.ID] = src.Name
		if p := s.plugins.Get(src.PluginID); p != nil && p.Desc.Has(source.CapRevalidate) {
			checkable[src.ID] = true
		}
	}
	return names, checkable
}
