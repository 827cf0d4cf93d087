package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// User is a person who logged in through a source.
type User struct {
	ID int64
	// PublicID is the opaque, never reused id apps see (the OIDC sub).
	PublicID      string
	SourceID      string
	Subject       string
	Username      string
	Email         string
	EmailVerified bool
	Name          string
	Picture       string
	// Groups are the person's group names, each once: what apps and rules see.
	Groups []string
	// Memberships are the person's groups with where each came from (read only: FinishLogin
	// stores Groups as the groups of SourceID's mapping and keeps those of other origins).
	Memberships  []Membership
	Attributes   json.RawMessage
	Raw          json.RawMessage
	Revalidation []byte
	// PreviewSample is the last login's document for mapping previews (the plugin's format).
	PreviewSample  json.RawMessage
	Disabled       bool
	DisabledReason string
	// LinkedTo is the person the admin linked this one into (a retired user: it signs in as
	// that person); 0 for everyone else.
	LinkedTo    int64
	LastLoginAt time.Time
	// Credentials are the upstream credentials this login handed over: FinishLogin replaces
	// the user's stored ones with them (never read back into a User).
	Credentials []Credential
	// Sync says which display attributes FinishLogin keeps of a known user (its source's
	// modes; never read back into a User).
	Sync DisplaySync
	// GlobalOf is the plugin id of SourceID when that plugin declares its subjects global
	// (contract 1.6): a new identity then joins the person another source of the plugin
	// already knows by the same subject (personOf; never read back into a User).
	GlobalOf string
}

// Membership is one of a person's groups and where it came from.
type Membership struct {
	Group string `json:"name"`
	// From is the id of the source whose mapping gave it at the person's last login through
	// that source, or FromAdmin.
	From string `json:"from"`
}

// FromAdmin is the origin of a group an admin gave a person by hand.
const FromAdmin = "admin"

// HasGroupFrom reports whether origin (a source id or FromAdmin) gave u the group.
func (u *User) HasGroupFrom(group, origin string) bool {
	return slices.Contains(u.Memberships, Membership{Group: group, From: origin})
}

// groupNames are the names of ms, each once, in order.
func groupNames(ms []Membership) []string {
	var out []string
	for _, m := range ms {
		if !slices.Contains(out, m.Group) {
			out = append(out, m.Group)
		}
	}
	return out
}

// loginMemberships are the memberships after a login through sourceID that gave groups:
// kept's of other origins, then groups as that source's.
func loginMemberships(kept []Membership, sourceID string, groups []string) []Membership {
	out := []Membership{}
	for _, m := range kept {
		if m.From != sourceID {
			out = append(out, m)
		}
	}
	for _, g := range groups {
		if m := (Membership{Group: g, From: sourceID}); !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// Disabled reasons.
const (
	DisabledByRevalidation = "revalidation"
	DisabledByAdmin        = "admin"
	// DisabledByLink: the admin linked the user into another person (LinkedTo).
	DisabledByLink = "linked"
)

// upsertSQL finds or creates the user by (source, sub), refreshes the attributes (but the
// display attributes its source sets at the first login only: DisplaySync) and re-enables a
// user that re-validation had disabled; an admin's disabling stays.
const upsertSQL = `INSERT INTO users (source_id, sub, username, email, email_verified, name, picture, groups_json,
		attributes_json, raw_json, reval_enc, created_at, last_login_at, public_id, preview_json)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (source_id, sub) DO UPDATE SET username = excluded.username,
		email = CASE WHEN ? = 1 THEN users.email ELSE excluded.email END,
		email_verified = CASE WHEN ? = 1 THEN users.email_verified ELSE excluded.email_verified END,
		name = CASE WHEN ? = 1 THEN users.name ELSE excluded.name END,
		picture = CASE WHEN ? = 1 THEN users.picture ELSE excluded.picture END,
		groups_json = excluded.groups_json, attributes_json = excluded.attributes_json, raw_json = excluded.raw_json,
		reval_enc = excluded.reval_enc, last_login_at = excluded.last_login_at, preview_json = excluded.preview_json,
		disabled = CASE WHEN users.disabled_reason = 'revalidation' THEN 0 ELSE users.disabled END,
		disabled_reason = CASE WHEN users.disabled_reason = 'revalidation' THEN '' ELSE users.disabled_reason END
	RETURNING id, disabled, public_id`

func (s *Store) upsertArgs(u User, publicID string) []any {
	groups, _ := json.Marshal(loginMemberships(u.Memberships, u.SourceID, u.Groups))
	attrs, raw := string(u.Attributes), string(u.Raw)
	if attrs == "" {
		attrs = "{}"
	}
	if raw == "" {
		raw = "{}"
	}
	now := s.now().Unix()
	email, name, picture := u.Sync.Email == SyncFirstLogin, u.Sync.Name == SyncFirstLogin, u.Sync.Picture == SyncFirstLogin
	return []any{u.SourceID, u.Subject, u.Username, u.Email, u.EmailVerified, u.Name, u.Picture, string(groups), attrs, raw,
		s.seal.Seal(u.Revalidation), now, now, publicID, string(u.PreviewSample), email, email, name, picture}
}

// LoginDone is what FinishLogin did.
type LoginDone struct {
	UserID   int64
	Disabled bool
	// Username is the name the user has on this host: the mapped one, or it with a suffix
	// when another user holds it (assignUsername).
	Username string
	// Token is the new session's cookie value ("" when the user is disabled).
	Token string
	// SessionID is the new session's stored id ("" when the user is disabled).
	SessionID string
	// ExpiresAt is when the new session ends unless it is seen again (SessionTerms).
	ExpiresAt time.Time
}

// ErrSourceOff is returned by FinishLogin when the source was turned off (or removed) while
// the login was under way.
var ErrSourceOff = errors.New("the login method was turned off")

// FinishLogin stores the user (with a username unique on the host, its names and e-mail as
// apps receive them: forApps), records the event and, unless an admin disabled the user,
// replaces the browser's session with the user's — in one transaction, and only while the
// source is on (else ErrSourceOff, nothing stored).
func (s *Store) FinishLogin(ctx context.Context, u User, allowed Event, oldSessionID string, life time.Duration) (*LoginDone, error) {
	return s.FinishLoginWith(ctx, u, allowed, oldSessionID, SessionTerms{Life: life})
}

// FinishLoginWith is FinishLogin with the new session's terms (remembered, sliding).
func (s *Store) FinishLoginWith(ctx context.Context, u User, allowed Event, oldSessionID string, terms SessionTerms) (*LoginDone, error) {
	mapped, mappedName := u.Username, u.Name
	u = u.forApps()
	token, csrf := RandomID(32), RandomID(16)
	var done LoginDone
	var ev Event
	err := s.tx(ctx, func(tx *sql.Tx) error {
		done, ev = LoginDone{}, allowed
		var err error
		var on bool
		if err := s.txQueryRow(ctx, tx, `SELECT enabled FROM sources WHERE id = ?`, u.SourceID).Scan(&on); errors.Is(err, sql.ErrNoRows) || (err == nil && !on) {
			return ErrSourceOff
		} else if err != nil {
			return fmt.Errorf("read the source: %w", err)
		}
		person, err := s.personOf(ctx, tx, u)
		if err != nil {
			return err
		}
		if person != 0 { // an identity of a person first known through another source
			var joined bool
			done.UserID = person
			if done.Disabled, joined, done.Username, err = s.joinLogin(ctx, tx, person, u); err != nil {
				return err
			}
			if joined {
				ev.Detail = joinWords(ev.Detail)
			}
		} else if err := s.upsertLogin(ctx, tx, u, &done, &ev); err != nil {
			return err
		}
		switch { // the event names the user as apps know them
		case ev.Name == mapped && done.Username != "":
			ev.Name = done.Username
		case ev.Name == mappedName:
			ev.Name = u.Name
		}
		if done.Disabled {
			ev = Event{SourceID: u.SourceID, Kind: EventLoginDenied, Subject: u.Subject, Reason: "user_disabled", Detail: "the user was disabled by an admin"}
		} else {
			if oldSessionID != "" {
				if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE id = ?`, oldSessionID); err != nil {
					return err
				}
			}
			now := s.now()
			done.ExpiresAt = time.Unix(terms.firstExpiry(now).Unix(), 0)
			if _, err := s.txExec(ctx, tx, `INSERT INTO sessions (id, user_id, admin, csrf, created_at, auth_time, expires_at, remembered,
				last_seen_at, slide, expires_cap) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)`,
				hashToken(token), done.UserID, csrf, now.Unix(), now.Unix(), done.ExpiresAt.Unix(), terms.Remembered,
				now.Unix(), int64(terms.Slide/time.Second), now.Add(terms.Life).Unix()); err != nil {
				return err
			}
			if oldSessionID != "" {
				// Logins still under way in other tabs of this browser follow it to the new session.
				if _, err := s.txExec(ctx, tx, `UPDATE login_states SET session_id = ? WHERE session_id = ?`, hashToken(token), oldSessionID); err != nil {
					return err
				}
			}
			done.Token, done.SessionID = token, hashToken(token)
			if err := s.replaceCredentials(ctx, tx, done.UserID, u.Credentials); err != nil {
				return err
			}
		}
		_, err = s.txExec(ctx, tx, `INSERT INTO events (at, source_id, kind, subject, name, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.now().Unix(), ev.SourceID, ev.Kind, ev.Subject, ev.Name, ev.Reason, ev.Detail)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.recorded(ev)
	return &done, nil
}

// upsertLogin stores, in tx, a login of u's own users row (made at the person's first
// sign-in) with a username unique on the host.
func (s *Store) upsertLogin(ctx context.Context, tx *sql.Tx, u User, done *LoginDone, ev *Event) error {
	var err error
	if u.Memberships, err = s.keptMemberships(ctx, tx, u.SourceID, u.Subject); err != nil {
		return err
	}
	newID, publicID := RandomID(16), ""
	if err := s.txQueryRow(ctx, tx, upsertSQL, s.upsertArgs(u, newID)...).Scan(&done.UserID, &done.Disabled, &publicID); err != nil {
		return err
	}
	ev.Joined = publicID == newID // the row was made here: the person's first sign-in
	if done.Username, err = s.assignUsername(ctx, tx, done.UserID, u.Username); err != nil {
		return err
	}
	if done.Username != u.Username {
		if _, err := s.txExec(ctx, tx, `UPDATE users SET username = ? WHERE id = ?`, done.Username, done.UserID); err != nil {
			return err
		}
	}
	return nil
}

// joinWords is a login event's detail when the login joined its identity to a person
// another source knows by the same subject.
func joinWords(detail string) string {
	const joined = "the same account as a person another source of this plugin knows: joined to that person"
	if detail == "" {
		return joined
	}
	return detail + "; " + joined
}

const userCols = `id, public_id, source_id, sub, username, email, email_verified, name, picture, groups_json, attributes_json, raw_json,
	reval_enc, disabled, disabled_reason, last_login_at, preview_json, linked_to`

// setGroups sets u's memberships and group names from groups_json as stored.
func (u *User) setGroups(groupsJSON string) {
	_ = json.Unmarshal([]byte(groupsJSON), &u.Memberships)
	u.Groups = groupNames(u.Memberships)
}

func (s *Store) scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var groups, attrs, raw, preview string
	var reval []byte
	var last int64
	if err := row.Scan(&u.ID, &u.PublicID, &u.SourceID, &u.Subject, &u.Username, &u.Email, &u.EmailVerified, &u.Name, &u.Picture, &groups, &attrs, &raw,
		&reval, &u.Disabled, &u.DisabledReason, &last, &preview, &u.LinkedTo); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	u.setGroups(groups)
	u.Attributes, u.Raw = json.RawMessage(attrs), json.RawMessage(raw)
	if preview != "" {
		u.PreviewSample = json.RawMessage(preview)
	}
	u.LastLoginAt = time.Unix(last, 0)
	var err error
	if u.Revalidation, err = s.seal.Open(reval); err != nil {
		return nil, err
	}
	return &u, nil
}

// keptMemberships are the stored memberships of the user of a source with subject sub (none
// for a new user), which a login through that source replaces only its own of.
func (s *Store) keptMemberships(ctx context.Context, tx *sql.Tx, sourceID, sub string) ([]Membership, error) {
	var groups string
	err := s.txQueryRow(ctx, tx, `SELECT groups_json FROM users WHERE source_id = ? AND sub = ?`, sourceID, sub).Scan(&groups)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the user's groups: %w", err)
	}
	var ms []Membership
	_ = json.Unmarshal([]byte(groups), &ms)
	return ms, nil
}

// FindUser is the user of a source whose subject is who, or whose username is who (without
// case); ErrNotFound when nobody of that source has logged in as who.
func (s *Store) FindUser(ctx context.Context, sourceID, who string) (*User, error) {
	return s.scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE source_id = ? AND (sub = ? OR lower(username) = lower(?))
		ORDER BY sub = ? DESC LIMIT 1`, sourceID, who, who, who))
}

// UserByPublicID reads a user by public id.
func (s *Store) UserByPublicID(ctx context.Context, id string) (*User, error) {
	return s.scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE public_id = ?`, id))
}

// User reads a user by id.
func (s *Store) User(ctx context.Context, id int64) (*User, error) {
	return s.scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
}

func (s *Store) queryUsers(ctx context.Context, query string, args ...any) ([]*User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userCols+` FROM users `+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*User
	for rows.Next() {
		u, err := s.scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Users lists users, newest login first.
func (s *Store) Users(ctx context.Context) ([]*User, error) {
	return s.queryUsers(ctx, `ORDER BY last_login_at DESC`)
}

// UsersToCheck lists enabled users of a source not checked after before.
func (s *Store) UsersToCheck(ctx context.Context, sourceID string, before time.Time) ([]*User, error) {
	return s.queryUsers(ctx, `WHERE source_id = ? AND (disabled = 0 OR disabled_reason = 'revalidation') AND last_check_at <= ?`,
		sourceID, before.Unix())
}

// MarkChecked records a re-validation time.
func (s *Store) MarkChecked(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE users SET last_check_at = ? WHERE id = ?`, s.now().Unix(), id)
	return err
}

// SetDisabled disables (ending the user's sessions) or enables a user.
func (s *Store) SetDisabled(ctx context.Context, id int64, disabled bool, reason string) error {
	if !disabled {
		reason = ""
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `UPDATE users SET disabled = ?, disabled_reason = ? WHERE id = ?`, disabled, reason, id); err != nil {
			return err
		}
		if disabled {
			return s.endAccess(ctx, tx, id)
		}
		return nil
	})
	if err == nil && disabled {
		s.changes.Notify(AccessRevoked)
	}
	return err
}

// endAccess ends every session of a user (host, forward-auth), revokes the user's OpenID
// Connect tokens, ends the authorization requests the user completed (their codes give
// nothing after it) and deletes the credentials the user's logins handed over.
func (s *Store) endAccess(ctx context.Context, tx *sql.Tx, id int64) error {
	for _, q := range []string{`DELETE FROM sessions WHERE user_id = ?`, `DELETE FROM forward_sessions WHERE user_id = ?`, `UPDATE oidc_tokens SET revoked = 1 WHERE user_id = ?`,
		`UPDATE oidc_refresh SET revoked = 1 WHERE user_id = ?`, `DELETE FROM oidc_auth_requests WHERE user_id = ?`,
		`DELETE FROM user_credentials WHERE user_id = ?`} {
		if _, err := s.txExec(ctx, tx, q, id); err != nil {
			return err
		}
	}
	return s.changed(ctx, tx, AccessRevoked)
}

// SignOutEverywhere ends every session and grant of a user (host, forward-auth, OpenID
// Connect) and deletes the credentials the user's logins handed over; the user stays enabled.
func (s *Store) SignOutEverywhere(ctx context.Context, id int64) error {
	defer s.changes.Notify(AccessRevoked)
	return s.tx(ctx, func(tx *sql.Tx) error { return s.endAccess(ctx, tx, id) })
}

// CountUsers counts users of a source with a subject (tests, duplicates).
func (s *Store) CountUsers(ctx context.Context, sourceID, sub string) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE source_id = ? AND sub = ?`, sourceID, sub).Scan(&n)
	return n, err
}
