package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// A person's display attributes (name, e-mail, picture): what the admin sets of them by hand,
// and when a login through a source sets them again (its sync modes).

// SyncMode is when a login through a source sets one display attribute of a person.
type SyncMode string

// The sync modes.
const (
	// SyncEveryLogin: every login sets it from the source's mapping (the default).
	SyncEveryLogin SyncMode = ""
	// SyncFirstLogin: the person's first login sets it; later logins keep what is stored
	// (what that login set, or what the admin set since).
	SyncFirstLogin SyncMode = "first_login"
)

// DisplaySync is the sync mode of each display attribute of a source's people. Groups and
// everything that admits a person have none: every login sets them.
type DisplaySync struct {
	Name    SyncMode `json:"name,omitempty"`
	Email   SyncMode `json:"email,omitempty"`
	Picture SyncMode `json:"picture,omitempty"`
}

// SetSourceSync stores the sync modes of the source id's display attributes (ErrNotFound when
// there is no such source).
func (s *Store) SetSourceSync(ctx context.Context, id string, sync DisplaySync) error {
	b, _ := json.Marshal(sync)
	res, err := s.db.ExecContext(ctx, `UPDATE sources SET display_sync = ?, updated_at = ? WHERE id = ?`, string(b), s.now().Unix(), id)
	if err != nil {
		return fmt.Errorf("set the sync modes of source %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// syncOf reads a stored display_sync value (the default modes when it cannot be read).
func syncOf(raw string) DisplaySync {
	var out DisplaySync
	_ = json.Unmarshal([]byte(raw), &out)
	return out
}

// Display are a person's display attributes, as the admin sets them.
type Display struct {
	Name, Email, Picture string
}

// SetDisplay sets the display attributes of the user userID as apps receive them (cleaned as
// a login's are: an unusable e-mail is dropped). An e-mail that changes is no longer verified:
// the admin typed it, no source confirmed it. It announces AccessRevoked, so the doors' caches
// read the person again at once. ErrNotFound when there is no such user.
func (s *Store) SetDisplay(ctx context.Context, userID int64, d Display) error {
	d.Name, d.Email = cleanName(d.Name), cleanEmail(d.Email)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `UPDATE users SET name = ?, picture = ?,
			email_verified = CASE WHEN email = ? THEN email_verified ELSE 0 END, email = ? WHERE id = ?`,
			d.Name, d.Picture, d.Email, d.Email, userID)
		if err != nil {
			return fmt.Errorf("set the display attributes of user %d: %w", userID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.changed(ctx, tx, AccessRevoked)
	})
	if err == nil {
		s.changes.Notify(AccessRevoked)
	}
	return err
}
