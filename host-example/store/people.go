package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// What the admin's person page reads of one user (sessions, grants, events) and does to
// them (end one session, revoke one grant, delete the user).

// likeArg is q lower-cased as a LIKE pattern that matches it anywhere (escape '\').
func likeArg(q string) string { return containsPattern(strings.ToLower(q)) }

// containsPattern is a LIKE pattern (escape '\') that matches q anywhere, as it is.
func containsPattern(q string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
}

// SearchUsers lists the users whose name, username or e-mail contains q (without case) or
// whose subject or public id is q, newest login first; every user for an empty q.
func (s *Store) SearchUsers(ctx context.Context, q string) ([]*User, error) {
	if q = strings.TrimSpace(q); q == "" {
		return s.Users(ctx)
	}
	like := likeArg(q)
	return s.queryUsers(ctx, `WHERE sub = ? OR public_id = ? OR lower(name) LIKE ? ESCAPE '\' OR lower(username) LIKE ? ESCAPE '\'
		OR lower(email) LIKE ? ESCAPE '\' ORDER BY last_login_at DESC`, q, q, like, like, like)
}

// SourceUsers lists the users of a source.
func (s *Store) SourceUsers(ctx context.Context, sourceID string) ([]*User, error) {
	return s.queryUsers(ctx, `WHERE source_id = ? ORDER BY id`, sourceID)
}

// SessionKind names the door a session is of.
type SessionKind string

// The kinds of a user's sessions.
const (
	// HostSession is a session of the host's own pages (the profile, OpenID Connect logins).
	HostSession SessionKind = "host"
	// ForwardAuthSession is a forward-auth session (the apps behind a reverse proxy).
	ForwardAuthSession SessionKind = "forward"
)

// UserSession is one live session of a user; Ref names it on the admin's pages (never its id,
// which is a hash of the cookie).
type UserSession struct {
	Kind      SessionKind
	Ref       string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Remembered is a host session kept on its device ("keep me signed in"); LastSeen is when
	// a host session was last used (to within a few minutes; zero for a forward-auth one).
	Remembered bool
	LastSeen   time.Time
}

// sessionRef is the name of the session id on the admin's pages: a keyed hash of it, short.
func (s *Store) sessionRef(id string) string { return s.MAC("session-ref", id)[:16] }

// UserSessions lists a user's unexpired sessions, host ones then forward-auth ones, newest first.
func (s *Store) UserSessions(ctx context.Context, userID int64) ([]UserSession, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT 'host', id, created_at, expires_at, remembered, last_seen_at FROM sessions
		WHERE user_id = ? AND expires_at > ?
		UNION ALL SELECT 'forward', id, created_at, expires_at, 0, 0 FROM forward_sessions WHERE user_id = ? AND expires_at > ?
		ORDER BY 1 DESC, 3 DESC, 2`, userID, s.now().Unix(), userID, s.now().Unix())
	if err != nil {
		return nil, fmt.Errorf("list a user's sessions: %w", err)
	}
	defer rows.Close()
	var out []UserSession
	for rows.Next() {
		var us UserSession
		var id string
		var created, exp, seen int64
		if err := rows.Scan(&us.Kind, &id, &created, &exp, &us.Remembered, &seen); err != nil {
			return nil, err
		}
		us.Ref, us.CreatedAt, us.ExpiresAt = s.sessionRef(id), time.Unix(created, 0), time.Unix(exp, 0)
		if seen != 0 {
			us.LastSeen = time.Unix(seen, 0)
		}
		out = append(out, us)
	}
	return out, rows.Err()
}

// EndUserSession ends one session of a user (kind and Ref as UserSessions gave them);
// ErrNotFound when the user has no such session.
func (s *Store) EndUserSession(ctx context.Context, userID int64, kind SessionKind, ref string) error {
	table := map[SessionKind]string{HostSession: "sessions", ForwardAuthSession: "forward_sessions"}[kind]
	if table == "" {
		return ErrNotFound
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM `+table+` WHERE user_id = ?`, userID)
	if err != nil {
		return fmt.Errorf("end a session: %w", err)
	}
	id := ""
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("end a session: %w", err)
		}
		if s.sessionRef(v) == ref {
			id = v
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("end a session: %w", err)
	}
	if id == "" {
		return ErrNotFound
	}
	r, err := s.execChanging(ctx, AccessRevoked, `DELETE FROM `+table+` WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return fmt.Errorf("end a session: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Grant is one live OpenID Connect authorization of a user: the access and refresh tokens
// issued from one sign-in to an application.
type Grant struct {
	ID       string
	ClientID string
	Scopes   []string
	AuthTime time.Time
	// ExpiresAt is when its last token expires.
	ExpiresAt time.Time
}

// UserGrants lists a user's grants that still have an unrevoked, unexpired token, newest first.
func (s *Store) UserGrants(ctx context.Context, userID int64) ([]Grant, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT grant_id, MIN(client_id), MAX(scopes), MAX(auth_time), MAX(expires_at) FROM
		(SELECT grant_id, client_id, scopes, auth_time, expires_at FROM oidc_tokens WHERE user_id = ? AND revoked = 0 AND expires_at > ?
		UNION ALL SELECT grant_id, client_id, scopes, auth_time, expires_at FROM oidc_refresh
		WHERE user_id = ? AND revoked = 0 AND rotated_at = 0 AND expires_at > ?
		UNION ALL SELECT grant_id, client_id, scopes, auth_time, access_expires FROM oidc_refresh r
		WHERE user_id = ? AND `+liveAccessInRow+`) AS g
		GROUP BY grant_id ORDER BY 4 DESC, 1`, userID, s.now().Unix(), userID, s.now().Unix(), userID, s.now().Unix())
	if err != nil {
		return nil, fmt.Errorf("list a user's grants: %w", err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var g Grant
		var scopes string
		var at, exp int64
		if err := rows.Scan(&g.ID, &g.ClientID, &scopes, &at, &exp); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(scopes), &g.Scopes)
		g.AuthTime, g.ExpiresAt = time.Unix(at, 0), time.Unix(exp, 0)
		out = append(out, g)
	}
	return out, rows.Err()
}

// RevokeUserGrant revokes one grant of a user (every token issued from it); ErrNotFound
// when no token of the grant is the user's.
func (s *Store) RevokeUserGrant(ctx context.Context, userID int64, grantID string) error {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM oidc_tokens WHERE grant_id = ? AND user_id = ?)
		+ (SELECT COUNT(*) FROM oidc_refresh WHERE grant_id = ? AND user_id = ?)`, grantID, userID, grantID, userID).Scan(&n); err != nil {
		return fmt.Errorf("find a grant: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return s.RevokeGrant(ctx, grantID)
}

// UserEvents lists the newest events about a person (a source's subject).
func (s *Store) UserEvents(ctx context.Context, sourceID, subject string, limit int) ([]Event, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT at, source_id, kind, subject, name, reason, detail FROM events
		WHERE subject = ? AND source_id = ? ORDER BY id DESC LIMIT ?`, subject, sourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("list a person's events: %w", err)
	}
	return scanEvents(rows)
}

// scanEvents reads rows of (at, source_id, kind, subject, name, reason, detail) and closes them.
func scanEvents(rows *sql.Rows) ([]Event, error) {
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&at, &e.SourceID, &e.Kind, &e.Subject, &e.Name, &e.Reason, &e.Detail); err != nil {
			return nil, err
		}
		e.At = time.Unix(at, 0)
		out = append(out, e)
	}
	return out, rows.Err()
}

// deleteUsersSQL delete the rows of the users a subquery selects (its one argument), in order:
// what refers to a user first, the users last. The usernames reservations stay (usernames.go):
// a deleted user's name is never given to anyone else, the person included if they come back.
var deleteUsersSQL = []string{
	`DELETE FROM sessions WHERE user_id IN (%s)`,
	`DELETE FROM forward_sessions WHERE user_id IN (%s)`,
	`DELETE FROM oidc_tokens WHERE user_id IN (%s)`,
	`DELETE FROM oidc_refresh WHERE user_id IN (%s)`,
	`DELETE FROM oidc_auth_requests WHERE user_id IN (%s)`,
	`DELETE FROM user_credentials WHERE user_id IN (%s)`,
	`DELETE FROM identities WHERE user_id IN (%s)`,
	`DELETE FROM users WHERE id IN (%s)`,
}

// deleteUsers deletes, in tx, the users that sel (a query of ids with one argument arg)
// selects, and those retired into them, with their sessions, tokens, pending authorizations,
// credentials and identities.
func (s *Store) deleteUsers(ctx context.Context, tx *sql.Tx, sel string, arg any) error {
	// The people the admin linked into them (retired: store/links.go) go with them, first.
	for _, q := range deleteUsersSQL {
		if _, err := s.txExec(ctx, tx, fmt.Sprintf(q, `SELECT id FROM users WHERE linked_to IN (`+sel+`)`), arg); err != nil {
			return fmt.Errorf("delete the people linked into the users: %w", err)
		}
	}
	for _, q := range deleteUsersSQL {
		if _, err := s.txExec(ctx, tx, fmt.Sprintf(q, sel), arg); err != nil {
			return fmt.Errorf("delete users: %w", err)
		}
	}
	return s.changed(ctx, tx, AccessRevoked)
}

// DeleteUser deletes a user with every session (host, forward-auth), OpenID Connect token and
// grant and kept credential, in one transaction; events stay. The person's next login makes
// a new user, with a new public id (the sub apps see). ErrNotFound when there is no such user.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("find the user: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	defer s.changes.Notify(AccessRevoked)
	return s.tx(ctx, func(tx *sql.Tx) error { return s.deleteUsers(ctx, tx, `?`, id) })
}
