package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// EventKind names what an event records.
type EventKind string

// The kinds of events the host records.
const (
	EventLoginAllowed            EventKind = "login_allowed"              // a user signed in
	EventLoginDenied             EventKind = "login_denied"               // a login refused (access rules, a disabled user)
	EventLoginFailed             EventKind = "login_failed"               // a login that did not complete
	EventOIDCDenied              EventKind = "oidc_denied"                // an application's groups refused a user
	EventUserRevoked             EventKind = "user_revoked"               // re-validation removed a user's access
	EventSignedOutEverywhere     EventKind = "signed_out_everywhere"      // a user ended every session and grant
	EventSessionEnded            EventKind = "session_ended"              // a user ended one of their sessions or app accesses
	EventCredentialRevoked       EventKind = "credential_revoked"         // a handed-over credential was signed out upstream
	EventCredentialHandedOver    EventKind = "credential_handed_over"     // a kept credential was written into an app's browser storage
	EventAdminLogin              EventKind = "admin_login"                // the admin signed in
	EventAdminLoginFailed        EventKind = "admin_login_failed"         // a wrong admin password
	EventAdminDeviceLocked       EventKind = "admin_device_locked"        // a browser locked out of the admin login
	EventAdminPasswordSet        EventKind = "admin_password_set"         // the admin password was set
	EventAdminPasswordReset      EventKind = "admin_password_reset"       // the admin password was reset
	EventAdminSecurityChanged    EventKind = "admin_security_changed"     // the admin grants, the TOTP or the local password changed
	EventAdminSourceCreated      EventKind = "admin_source_created"       // a source was created
	EventAdminSourceSaved        EventKind = "admin_source_saved"         // a source's settings were saved
	EventAdminSourceEnabled      EventKind = "admin_source_enabled"       // a source was turned on
	EventAdminSourceDisabled     EventKind = "admin_source_disabled"      // a source was turned off
	EventAdminDraftDiscarded     EventKind = "admin_draft_discarded"      // a source's unsaved settings were dropped
	EventAdminAction             EventKind = "admin_action"               // an admin action of a source ran
	EventAdminUserDisabled       EventKind = "admin_user_disabled"        // the admin disabled a user
	EventAdminUserEnabled        EventKind = "admin_user_enabled"         // the admin enabled a user
	EventAdminClientCreated      EventKind = "admin_client_created"       // an application was registered
	EventAdminClientChanged      EventKind = "admin_client_changed"       // an application was changed
	EventAdminClientDeleted      EventKind = "admin_client_deleted"       // an application was deleted
	EventAdminForwardRuleSaved   EventKind = "admin_forward_rule_saved"   // a protected app was saved
	EventAdminForwardRuleDeleted EventKind = "admin_forward_rule_deleted" // a protected app was deleted
	EventAdminUserDeleted        EventKind = "admin_user_deleted"         // the admin deleted a person
	EventAdminSourceDeleted      EventKind = "admin_source_deleted"       // the admin deleted a source and its people
	EventAdminAccessRevoked      EventKind = "admin_access_revoked"       // the admin ended a person's session or app access
	EventAdminUserChanged        EventKind = "admin_user_changed"         // the admin set a person's groups or display attributes
	EventAdminNotifySaved        EventKind = "admin_notify_saved"         // a notification target was added or changed
	EventAdminNotifyDeleted      EventKind = "admin_notify_deleted"       // a notification target was deleted
)

// healthPrefix begins the kind of a health check's event.
const healthPrefix = "health_"

// HealthEvent is the kind of the event of a source's health check action.
func HealthEvent(action string) EventKind { return EventKind(healthPrefix + action) }

// HealthAction is the health check action of a health event's kind (ok false for another kind).
func (k EventKind) HealthAction() (action string, ok bool) {
	return strings.CutPrefix(string(k), healthPrefix)
}

// Event is one recorded decision or state change.
type Event struct {
	// ID orders events (a later event has a larger one); 0 for one not yet recorded.
	ID       int64
	At       time.Time
	SourceID string
	Kind     EventKind
	// Subject is the person's id at the source; Name a name an admin recognises (username).
	Subject string
	Name    string
	Reason  string
	Detail  string
	// Joined is set on the login_allowed event of a person's first sign-in (FinishLogin made
	// their row): told to the observer, not stored.
	Joined bool
}

// AddEvent records an event.
func (s *Store) AddEvent(ctx context.Context, e Event) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO events (at, source_id, kind, subject, name, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.now().Unix(), e.SourceID, e.Kind, e.Subject, e.Name, e.Reason, e.Detail)
	if err == nil {
		s.recorded(e)
	}
	return err
}

// Events lists the newest events; a query keeps those whose name or subject is it, or whose
// name, reason or detail contains it (case-insensitive).
func (s *Store) Events(ctx context.Context, limit int, query string) ([]Event, error) {
	page, err := s.EventPage(ctx, EventFilter{Query: query, Limit: limit})
	return page.Events, err
}

// EventSources are the distinct sources (ids, not "") of the events of kind whose detail
// contains text: the sources through which something happened, such as an admin sign-in.
func (s *Store) EventSources(ctx context.Context, kind EventKind, text string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT DISTINCT source_id FROM events WHERE kind = ? AND source_id <> '' AND detail LIKE ? ESCAPE '\'
		ORDER BY source_id`, kind, containsPattern(text))
	if err != nil {
		return nil, fmt.Errorf("sources of %s events: %w", kind, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sources of %s events: %w", kind, err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
