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

// One person across sources (issue 31 §3). A person's users row names the source and subject
// of the first login (source_id, sub); a later login through another source of a plugin that
// declares its subjects global (contract 1.6) with the same subject joins that person as an
// Identity. Nothing is ever joined by e-mail or username.

// Identity is a person's identity of a source beyond the one of their users row.
type Identity struct {
	UserID   int64
	SourceID string
	Subject  string
	// Revalidation is the identity's own re-validation state (its source's last login).
	Revalidation []byte
	CreatedAt    time.Time
}

// personOf is the person a login of u joins: 0 when the login is of u's own users row (found
// or made by the upsert); else the user whose identity of u's source this is, or (a new
// identity of a plugin with global subjects, u.GlobalOf) the oldest person with the same
// subject from another source of that plugin.
func (s *Store) personOf(ctx context.Context, tx *sql.Tx, u User) (int64, error) {
	var id int64
	err := s.txQueryRow(ctx, tx, `SELECT id FROM users WHERE source_id = ? AND sub = ? AND linked_to = 0`, u.SourceID, u.Subject).Scan(&id)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find the user: %w", err)
	}
	err = s.txQueryRow(ctx, tx, `SELECT user_id FROM identities WHERE source_id = ? AND sub = ?`, u.SourceID, u.Subject).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find the identity: %w", err)
	}
	if u.GlobalOf == "" || u.Subject == "" {
		return 0, nil
	}
	var person sql.NullInt64
	err = s.txQueryRow(ctx, tx, `SELECT MIN(id) FROM (
		SELECT u.id AS id FROM users u JOIN sources s ON s.id = u.source_id WHERE s.plugin_id = ? AND u.sub = ? AND u.source_id <> ? AND u.linked_to = 0
		UNION SELECT i.user_id AS id FROM identities i JOIN sources s ON s.id = i.source_id WHERE s.plugin_id = ? AND i.sub = ? AND i.source_id <> ?) c`,
		u.GlobalOf, u.Subject, u.SourceID, u.GlobalOf, u.Subject, u.SourceID).Scan(&person)
	if err != nil {
		return 0, fmt.Errorf("find the person of another source: %w", err)
	}
	return person.Int64, nil
}

// joinLogin stores, in tx, a login of u through an identity of the person id: that source's
// groups replace only its own, the identity keeps its re-validation state, and a person
// re-validation had disabled is enabled again (as a login of the users row does); the display
// attributes and username stay the person's. It reports whether the identity is new.
func (s *Store) joinLogin(ctx context.Context, tx *sql.Tx, id int64, u User) (disabled, joined bool, username string, err error) {
	var groups, reason string
	if err = s.txQueryRow(ctx, tx, `SELECT groups_json, username, disabled_reason FROM users WHERE id = ?`, id).Scan(&groups, &username, &reason); err != nil {
		return false, false, "", fmt.Errorf("read the person: %w", err)
	}
	var ms []Membership
	_ = json.Unmarshal([]byte(groups), &ms)
	if reason == DisabledByRevalidation { // every source refused him: their groups do not come back with this one
		ms = slices.DeleteFunc(ms, func(m Membership) bool { return m.From != FromAdmin })
	}
	next, _ := json.Marshal(loginMemberships(ms, u.SourceID, u.Groups))
	if err = s.txQueryRow(ctx, tx, `UPDATE users SET groups_json = ?, last_login_at = ?,
		disabled = CASE WHEN disabled_reason = 'revalidation' THEN 0 ELSE disabled END,
		disabled_reason = CASE WHEN disabled_reason = 'revalidation' THEN '' ELSE disabled_reason END
		WHERE id = ? RETURNING disabled`, string(next), s.now().Unix(), id).Scan(&disabled); err != nil {
		return false, false, "", fmt.Errorf("store the person's login: %w", err)
	}
	res, err := s.txExec(ctx, tx, `UPDATE identities SET reval_enc = ? WHERE source_id = ? AND sub = ?`, s.seal.Seal(u.Revalidation), u.SourceID, u.Subject)
	if err != nil {
		return false, false, "", fmt.Errorf("store the identity: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		joined = true
		if _, err = s.txExec(ctx, tx, `INSERT INTO identities (source_id, sub, user_id, reval_enc, created_at) VALUES (?, ?, ?, ?, ?)`,
			u.SourceID, u.Subject, id, s.seal.Seal(u.Revalidation), s.now().Unix()); err != nil {
			return false, false, "", fmt.Errorf("join the identity: %w", err)
		}
	}
	return disabled, joined, username, nil
}

// Identities lists a person's identities beyond the one of their users row, oldest first.
func (s *Store) Identities(ctx context.Context, userID int64) ([]Identity, error) {
	return s.queryIdentities(ctx, `WHERE user_id = ? ORDER BY created_at, source_id`, userID)
}

// IdentitiesToCheck lists the identities of a source whose person is enabled (or disabled by
// re-validation) not checked after before.
func (s *Store) IdentitiesToCheck(ctx context.Context, sourceID string, before time.Time) ([]Identity, error) {
	return s.queryIdentities(ctx, `WHERE source_id = ? AND last_check_at <= ? AND user_id IN
		(SELECT id FROM users WHERE disabled = 0 OR disabled_reason = 'revalidation') ORDER BY user_id`, sourceID, before.Unix())
}

func (s *Store) queryIdentities(ctx context.Context, where string, args ...any) ([]Identity, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT user_id, source_id, sub, reval_enc, created_at FROM identities `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read identities: %w", err)
	}
	defer rows.Close()
	var out []Identity
	for rows.Next() {
		var i Identity
		var sealed []byte
		var at int64
		if err := rows.Scan(&i.UserID, &i.SourceID, &i.Subject, &sealed, &at); err != nil {
			return nil, err
		}
		if i.Revalidation, err = s.seal.Open(sealed); err != nil {
			return nil, err
		}
		i.CreatedAt = time.Unix(at, 0)
		out = append(out, i)
	}
	return out, rows.Err()
}

// MarkIdentityChecked records an identity's re-validation time.
func (s *Store) MarkIdentityChecked(ctx context.Context, sourceID, sub string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE identities SET last_check_at = ? WHERE source_id = ? AND sub = ?`, s.now().Unix(), sourceID, sub)
	return err
}

// SetIdentityRevalidation replaces an identity's re-validation state (its plugin asked to).
func (s *Store) SetIdentityRevalidation(ctx context.Context, sourceID, sub string, state []byte) error {
	_, err := s.db.ExecContext(ctx, `UPDATE identities SET reval_enc = ? WHERE source_id = ? AND sub = ?`, s.seal.Seal(state), sourceID, sub)
	return err
}

// LeaveSource takes away the groups sourceID gave the person userID and forgets their
// identity of that source (not the one of their users row): re-validation refused them there
// while another source admits them. It reports whether anything changed.
func (s *Store) LeaveSource(ctx context.Context, userID int64, sourceID string) (bool, error) {
	var changed bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if changed, err = s.dropSourceGroups(ctx, tx, userID, sourceID); err != nil {
			return err
		}
		res, err := s.txExec(ctx, tx, `DELETE FROM identities WHERE user_id = ? AND source_id = ?`, userID, sourceID)
		if err != nil {
			return fmt.Errorf("forget the identity: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			changed = true
		}
		if changed {
			return s.changed(ctx, tx, AccessRevoked)
		}
		return nil
	})
	if err == nil && changed {
		s.changes.Notify(AccessRevoked)
	}
	return changed, err
}

// dropSourceGroups takes away, in tx, the memberships of the person userID that sourceID gave.
func (s *Store) dropSourceGroups(ctx context.Context, tx *sql.Tx, userID int64, sourceID string) (bool, error) {
	var groups string
	if err := s.txQueryRow(ctx, tx, `SELECT groups_json FROM users WHERE id = ?`, userID).Scan(&groups); err != nil {
		return false, fmt.Errorf("read the person's groups: %w", err)
	}
	var ms []Membership
	_ = json.Unmarshal([]byte(groups), &ms)
	kept := loginMemberships(ms, sourceID, nil)
	if len(kept) == len(ms) {
		return false, nil
	}
	next, _ := json.Marshal(kept)
	if _, err := s.txExec(ctx, tx, `UPDATE users SET groups_json = ? WHERE id = ?`, string(next), userID); err != nil {
		return false, fmt.Errorf("take the source's groups away: %w", err)
	}
	return true, nil
}

// leaveDeletedSource takes away, in tx, the groups a deleted source gave the people it had
// joined to a person of another source (their identities go with the source).
func (s *Store) leaveDeletedSource(ctx context.Context, tx *sql.Tx, sourceID string) error {
	rows, err := s.txQuery(ctx, tx, `SELECT user_id FROM identities WHERE source_id = ?`, sourceID)
	if err != nil {
		return fmt.Errorf("read the source's identities: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.dropSourceGroups(ctx, tx, id, sourceID); err != nil {
			return err
		}
	}
	return nil
}

// IdentityOwner is the person whose identity of sourceID (beyond their users row's) has the
// subject sub; ErrNotFound when none has.
func (s *Store) IdentityOwner(ctx context.Context, sourceID, sub string) (int64, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, `SELECT user_id FROM identities WHERE source_id = ? AND sub = ?`, sourceID, sub).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("find the identity's person: %w", err)
	}
	return id, nil
}
