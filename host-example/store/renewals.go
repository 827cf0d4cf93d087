package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The renewal of a source's expiring credentials (contract 1.4, config.renew): one row per
// source with when to call its plugin next, the attempts of a failing renewal, the lease of
// the replica renewing it now and the credentials the plugin last reported — labels,
// expiries, errors and warnings, never a secret value (those stay in the sealed config).

// ErrVersionMoved refuses a config save made against a version that is no longer the
// current one (another save came first).
var ErrVersionMoved = errors.New("the settings were saved meanwhile")

// RenewalCredential is one expiring credential as the plugin last reported it.
type RenewalCredential struct {
	// Field is the config field holding it; Label names it as an admin knows it.
	Field string `json:"field"`
	Label string `json:"label"`
	// ExpiresAt and RenewedAt (unix seconds, 0: unknown or never); Since is when its
	// current life began (its renewal, else when the host first saw this expiry).
	ExpiresAt int64 `json:"expires_at,omitempty"`
	RenewedAt int64 `json:"renewed_at,omitempty"`
	Since     int64 `json:"since,omitempty"`
	// Error is the plugin's words for why it was not renewed; Refused is set when the
	// upstream refused it (an admin must act), else it is retried.
	Error   string `json:"error,omitempty"`
	Refused bool   `json:"refused,omitempty"`
	// Warning is something an admin should know that needs no action now.
	Warning string `json:"warning,omitempty"`
}

// SourceRenewal is the renewal schedule of one source.
type SourceRenewal struct {
	SourceID string
	// ConfigVersion is the settings version the credentials were last looked at in.
	ConfigVersion int64
	// RenewAfter is when to call the plugin next (zero: nothing scheduled).
	RenewAfter time.Time
	// Attempts counts the renewals that failed in a row (the back-off's exponent).
	Attempts int
	// LeaseUntil is when the claim of the replica renewing it now ends (zero: none).
	LeaseUntil time.Time
	// LastRenewedAt is the last time a renewal changed the settings (zero: never).
	LastRenewedAt time.Time
	Credentials   []RenewalCredential
}

func zeroOrUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

const renewalCols = `source_id, config_version, renew_after, attempts, lease_until, last_renewed_at, credentials_json`

func scanRenewal(row interface{ Scan(...any) error }) (*SourceRenewal, error) {
	var r SourceRenewal
	var after, lease, last int64
	var creds string
	if err := row.Scan(&r.SourceID, &r.ConfigVersion, &after, &r.Attempts, &lease, &last, &creds); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	r.RenewAfter, r.LeaseUntil, r.LastRenewedAt = unixOrZero(after), unixOrZero(lease), unixOrZero(last)
	if err := json.Unmarshal([]byte(creds), &r.Credentials); err != nil {
		return nil, fmt.Errorf("renewal of source %s: read its credentials: %w", r.SourceID, err)
	}
	return &r, nil
}

// SourceRenewal is the renewal schedule of source id (ErrNotFound when it has none).
func (s *Store) SourceRenewal(ctx context.Context, id string) (*SourceRenewal, error) {
	return scanRenewal(s.read.QueryRowContext(ctx, `SELECT `+renewalCols+` FROM source_renewals WHERE source_id = ?`, id))
}

// SourceRenewals are the renewal schedules of every source that has one.
func (s *Store) SourceRenewals(ctx context.Context) ([]*SourceRenewal, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+renewalCols+` FROM source_renewals ORDER BY source_id`)
	if err != nil {
		return nil, fmt.Errorf("renewals: %w", err)
	}
	defer rows.Close()
	var out []*SourceRenewal
	for rows.Next() {
		r, err := scanRenewal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RenewBy makes source id due for renewal at the latest at (a schedule further off moves
// up; a nearer one stays), creating its row when it has none.
func (s *Store) RenewBy(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO source_renewals (source_id, renew_after, updated_at) VALUES (?, ?, ?)
		ON CONFLICT(source_id) DO UPDATE SET renew_after = CASE WHEN source_renewals.renew_after = 0 OR source_renewals.renew_after > excluded.renew_after
		THEN excluded.renew_after ELSE source_renewals.renew_after END, updated_at = excluded.updated_at`, id, max(at.Unix(), 1), s.now().Unix())
	if err != nil {
		return fmt.Errorf("schedule the renewal of source %s: %w", id, err)
	}
	return nil
}

// ClaimRenewal takes source id's renewal for lease when it is due and no replica holds it;
// false when it is not due or held.
func (s *Store) ClaimRenewal(ctx context.Context, id string, lease time.Duration) (bool, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `UPDATE source_renewals SET lease_until = ?, updated_at = ?
		WHERE source_id = ? AND renew_after > 0 AND renew_after <= ? AND lease_until <= ?`, now.Add(lease).Unix(), now.Unix(), id, now.Unix(), now.Unix())
	if err != nil {
		return false, fmt.Errorf("claim the renewal of source %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FinishRenewal writes what a renewal came to and releases its lease (a source deleted
// meanwhile keeps no schedule).
func (s *Store) FinishRenewal(ctx context.Context, r SourceRenewal) error {
	creds, err := json.Marshal(r.Credentials)
	if err != nil {
		return fmt.Errorf("renewal of source %s: %w", r.SourceID, err)
	}
	if r.Credentials == nil {
		creds = []byte("[]")
	}
	_, err = s.db.ExecContext(ctx, `UPDATE source_renewals SET config_version = ?, renew_after = ?, attempts = ?, lease_until = 0,
		last_renewed_at = ?, credentials_json = ?, updated_at = ? WHERE source_id = ?`,
		r.ConfigVersion, zeroOrUnix(r.RenewAfter), r.Attempts, zeroOrUnix(r.LastRenewedAt), string(creds), s.now().Unix(), r.SourceID)
	if err != nil {
		return fmt.Errorf("finish the renewal of source %s: %w", r.SourceID, err)
	}
	return nil
}

// SaveConfigAt stores a validated config as SaveConfig does, only while the source's
// settings are still version (ErrVersionMoved otherwise), and answers the new version.
func (s *Store) SaveConfigAt(ctx context.Context, id string, version int64, cfg json.RawMessage) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `UPDATE sources SET config_enc = ?, draft_enc = NULL, config_version = config_version + 1, updated_at = ?
		WHERE id = ? AND config_version = ? RETURNING config_version`, s.seal.Seal(cfg), s.now().Unix(), id, version).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("save the settings of source %s: %w", id, ErrVersionMoved)
	}
	return v, err
}

// RenewConfig stores a config a renewal changed, only while the source's settings are still
// version (ErrVersionMoved otherwise): the draft, if any, stays, rebased by rebase in the
// same transaction (an admin's unsaved form must not keep a credential the renewal replaced).
func (s *Store) RenewConfig(ctx context.Context, id string, version int64, cfg json.RawMessage,
	rebase func(draft json.RawMessage) json.RawMessage) (int64, error) {
	var v int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := s.txQueryRow(ctx, tx, `UPDATE sources SET config_enc = ?, config_version = config_version + 1, updated_at = ?
			WHERE id = ? AND config_version = ? RETURNING config_version`, s.seal.Seal(cfg), s.now().Unix(), id, version).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrVersionMoved
		}
		if err != nil {
			return err
		}
		var sealed []byte
		if err := s.txQueryRow(ctx, tx, `SELECT draft_enc FROM sources WHERE id = ?`, id).Scan(&sealed); err != nil {
			return err
		}
		if sealed == nil {
			return nil
		}
		draft, err := s.seal.Open(sealed)
		if err != nil {
			return fmt.Errorf("open the draft: %w", err)
		}
		_, err = s.txExec(ctx, tx, `UPDATE sources SET draft_enc = ? WHERE id = ?`, s.seal.Seal(rebase(draft)), id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("save the renewed settings of source %s: %w", id, err)
	}
	return v, nil
}
