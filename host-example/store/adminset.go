package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// The groups the admin sets of one person by hand: kept with the origin FromAdmin, which no
// login replaces (a login replaces only its own source's groups).

// AdminGroups are the groups the admin gave u by hand, in order.
func (u *User) AdminGroups() []string {
	var out []string
	for _, m := range u.Memberships {
		if m.From == FromAdmin {
			out = append(out, m.Group)
		}
	}
	return out
}

// SetAdminGroups replaces the groups the admin gave the user userID by groups (each once, in
// order; the caller checks the names) and keeps the groups of every other origin. It announces
// AccessRevoked, so the doors' caches read the person's groups again at once (a group taken
// away ends what it let in). ErrNotFound when there is no such user.
func (s *Store) SetAdminGroups(ctx context.Context, userID int64, groups []string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var raw string
		err := s.txQueryRow(ctx, tx, `SELECT groups_json FROM users WHERE id = ?`, userID).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read the user's groups: %w", err)
		}
		var kept []Membership
		_ = json.Unmarshal([]byte(raw), &kept)
		b, _ := json.Marshal(loginMemberships(kept, FromAdmin, groups))
		if _, err := s.txExec(ctx, tx, `UPDATE users SET groups_json = ? WHERE id = ?`, string(b), userID); err != nil {
			return fmt.Errorf("set the admin's groups of user %d: %w", userID, err)
		}
		return s.changed(ctx, tx, AccessRevoked)
	})
	if err == nil {
		s.changes.Notify(AccessRevoked)
	}
	return err
}
