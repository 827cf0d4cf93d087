package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Forward-auth sessions carry a user's identity to the apps behind a reverse proxy and
// nothing else: they live in their own table, so a forward-auth cookie is never a host
// session (no admin rights, no OpenID Connect login) and a host cookie is never one of them.

// MaxForwardSessions is how many forward-auth sessions a user keeps: minting one more ends
// the oldest (a browser that lost its cookie, or a script calling the start page, cannot
// fill the table).
const MaxForwardSessions = 20

// CreateForwardSession stores a forward-auth session under id (the forward-auth package
// makes the id and the cookie token of it) for the person of the host session hostSessionID,
// and answers that person and when the session ends. It is made only while that host session
// lives and the person and their source are on (ErrAccessEnded otherwise), read in the same
// transaction as the insert: an end of access (sign out everywhere, disable, a source turned
// off: each one transaction) either commits first, and nothing is made, or after, and it ends
// the new session too. On PostgreSQL the interleaving that separate statements allowed (the
// host session read, then deleted by the end, which also missed the new row) is a cycle of
// read-write dependencies that SERIALIZABLE refuses (40001; tx runs it again). The person's
// oldest sessions beyond MaxForwardSessions end. The new session ends life from now or when
// the host session ends, whichever is sooner: it never outlives the sign-in it stands on (a
// sign-in's lifetime, -idle-timeout).
func (s *Store) CreateForwardSession(ctx context.Context, id, hostSessionID string, life time.Duration) (int64, time.Time, error) {
	now := s.now()
	exp := now.Add(life)
	var userID, ended, hostEnds int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		exp = now.Add(life)
		err := s.txQueryRow(ctx, tx, `SELECT sess.user_id, sess.expires_at FROM sessions sess `+sessionPerson("sess", false)+`
			WHERE sess.id = ? AND `+sessionLive("sess", false),
			hostSessionID, now.Unix()).Scan(&userID, &hostEnds)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrAccessEnded
		}
		if err != nil {
			return fmt.Errorf("create forward-auth session: read the host session: %w", err)
		}
		if h := time.Unix(hostEnds, 0); h.Before(exp) {
			exp = h
		}
		if _, err := s.txExec(ctx, tx, `INSERT INTO forward_sessions (id, user_id, created_at, seq, expires_at)
			VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM forward_sessions WHERE user_id = ?), ?)`,
			id, userID, now.Unix(), userID, exp.Unix()); err != nil {
			return fmt.Errorf("create forward-auth session: %w", err)
		}
		// The new session stays; of the others, the newest MaxForwardSessions-1 do.
		res, err := s.txExec(ctx, tx, `DELETE FROM forward_sessions WHERE id IN (SELECT id FROM forward_sessions
			WHERE user_id = ? AND id != ? ORDER BY seq DESC, created_at DESC, id DESC LIMIT -1 OFFSET ?)`, userID, id, MaxForwardSessions-1)
		if err != nil {
			return fmt.Errorf("end the oldest forward-auth sessions: %w", err)
		}
		if ended, _ = res.RowsAffected(); ended > 0 {
			return s.changed(ctx, tx, AccessRevoked)
		}
		return nil
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	if ended > 0 {
		s.changes.Notify(AccessRevoked) // caches recheck: the ended sessions' cookies stop working
	}
	return userID, exp, nil
}

// joinedUserCols are userCols of the users table as "u", for a query that reads a user with
// the row it joins (one statement, not two: a round trip each on PostgreSQL).
var joinedUserCols = "u." + strings.Join(strings.Split(strings.Join(strings.Fields(userCols), " "), ", "), ", u.")

// alsoScan is a row whose Scan fills extra after the destinations it is given.
type alsoScan struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (a alsoScan) Scan(dest ...any) error { return a.row.Scan(append(dest, a.extra...)...) }

// ForwardSession is the user of a live forward-auth session id: the session is unexpired and
// its user and source are enabled. It answers when the session expires. Of the user it reads
// only who they are (id, public id, source, subject, username, email, name, picture and
// groups), what a protected app learns: not the login document, credentials or preview, which
// a cache miss need not read, decode or decrypt.
func (s *Store) ForwardSession(ctx context.Context, id string) (*User, time.Time, error) {
	var u User
	var groups string
	var exp int64
	err := s.read.QueryRowContext(ctx, `SELECT u.id, u.public_id, u.source_id, u.sub, u.username, u.email, u.email_verified, u.name,
		u.picture, u.groups_json, f.expires_at FROM forward_sessions f `+sessionPerson("f", false)+`
		WHERE f.id = ? AND `+sessionLive("f", false), id, s.now().Unix()).
		Scan(&u.ID, &u.PublicID, &u.SourceID, &u.Subject, &u.Username, &u.Email, &u.EmailVerified, &u.Name, &u.Picture, &groups, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	u.setGroups(groups)
	return &u, time.Unix(exp, 0), nil
}

// DeleteForwardSession ends a forward-auth session (log-out).
func (s *Store) DeleteForwardSession(ctx context.Context, id string) error {
	_, err := s.execChanging(ctx, AccessRevoked, `DELETE FROM forward_sessions WHERE id = ?`, id)
	return err
}

// ForwardRule is one protected app (a host) or part of it (a path prefix) and who may pass.
type ForwardRule struct {
	ID   string
	Name string
	Host string
	// PathPrefix limits the rule to a path and what is below it; empty: the whole host.
	PathPrefix string
	// Groups a user must be in one of; empty: any signed-in user.
	Groups []string
	// Bypass are path prefixes the app protects itself (API keys).
	Bypass []string
	// BypassOptions lets CORS preflight requests pass.
	BypassOptions bool
	// AllowEncodedSlash lets paths holding %2F pass.
	AllowEncodedSlash bool
	// Handover is the credential kind a signed-in user's browser may receive on this app's
	// origin (its bridge writes it where the app reads it); "" for none.
	Handover string
}

// ForwardRules lists the rules by host and path prefix.
func (s *Store) ForwardRules(ctx context.Context) ([]ForwardRule, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, host, path_prefix, groups_json, bypass_json, bypass_options,
		allow_encoded_slash, handover FROM forward_rules ORDER BY host, path_prefix`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ForwardRule
	for rows.Next() {
		var r ForwardRule
		var groups, bypass string
		if err := rows.Scan(&r.ID, &r.Name, &r.Host, &r.PathPrefix, &groups, &bypass, &r.BypassOptions, &r.AllowEncodedSlash, &r.Handover); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(groups), &r.Groups); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(bypass), &r.Bypass); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ErrDuplicateRule is a second rule for the same host and path prefix.
var ErrDuplicateRule = errors.New("a rule for this host and path already exists")

// PutForwardRule creates (empty ID: one is made) or replaces a rule and returns its id.
func (s *Store) PutForwardRule(ctx context.Context, r ForwardRule) (string, error) {
	if r.ID == "" {
		r.ID = RandomID(8)
	}
	groups, _ := json.Marshal(nonNil(r.Groups))
	bypass, _ := json.Marshal(nonNil(r.Bypass))
	_, err := s.execChanging(ctx, ForwardRules, `INSERT INTO forward_rules (id, name, host, path_prefix, groups_json, bypass_json, bypass_options,
		allow_encoded_slash, handover, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name,
		host = excluded.host, path_prefix = excluded.path_prefix, groups_json = excluded.groups_json, bypass_json = excluded.bypass_json,
		bypass_options = excluded.bypass_options, allow_encoded_slash = excluded.allow_encoded_slash, handover = excluded.handover`,
		r.ID, r.Name, r.Host, r.PathPrefix, string(groups), string(bypass), r.BypassOptions, r.AllowEncodedSlash, r.Handover, s.now().Unix())
	if isUniqueViolation(err) {
		return "", ErrDuplicateRule
	}
	return r.ID, err
}

// DeleteForwardRule deletes a rule and its icon.
func (s *Store) DeleteForwardRule(ctx context.Context, id string) error {
	defer s.changes.Notify(ForwardRules)
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM forward_rules WHERE id = ?`, `DELETE FROM app_icons WHERE kind = '` + string(RuleIcon) + `' AND app_id = ?`} {
			if _, err := s.txExec(ctx, tx, q, id); err != nil {
				return err
			}
		}
		return s.changed(ctx, tx, ForwardRules)
	})
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
