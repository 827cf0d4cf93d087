package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Known admin devices: browsers that signed in as admin hold a cookie signed under a key kept
// here (web builds and checks the cookie). Wrong passwords sent with one are counted per device
// (table admin_devices; only a validly signed cookie makes a row, so only admin logins do).

// metaAdminDeviceKey is the key of the known-device cookies (ForgetAdminDevices replaces it).
const metaAdminDeviceKey = "admin_device_key"

// AdminDeviceKey is the key known-device cookies are signed under, made at first use.
func (s *Store) AdminDeviceKey(ctx context.Context) (string, error) {
	if k, err := s.Meta(ctx, metaAdminDeviceKey); err == nil && k != "" {
		return k, nil
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING`,
		metaAdminDeviceKey, RandomID(32)); err != nil {
		return "", fmt.Errorf("make the admin device key: %w", err)
	}
	return s.Meta(ctx, metaAdminDeviceKey)
}

// ForgetAdminDevices voids every known-device cookie (a new key) and their failure counts.
func (s *Store) ForgetAdminDevices(ctx context.Context) error {
	key := RandomID(32)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
			metaAdminDeviceKey, key); err != nil {
			return err
		}
		_, err := s.txExec(ctx, tx, `DELETE FROM admin_devices`)
		return err
	})
}

// AdminDeviceLocked reports whether a device was locked out by its wrong passwords.
func (s *Store) AdminDeviceLocked(ctx context.Context, id string) (bool, error) {
	var locked bool
	err := s.read.QueryRowContext(ctx, `SELECT locked FROM admin_devices WHERE id = ?`, id).Scan(&locked)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return locked, err
}

// AdminDeviceFailed counts a wrong password sent with a device's cookie and reports whether the
// device is now locked out (max in a row). Rows idle longer than life (the cookie's) are dropped.
func (s *Store) AdminDeviceFailed(ctx context.Context, id string, max int, life time.Duration) (bool, error) {
	now := s.now()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM admin_devices WHERE updated_at < ?`, now.Add(-life).Unix()); err != nil {
		return false, err
	}
	var locked bool
	err := s.db.QueryRowContext(ctx, `INSERT INTO admin_devices (id, failures, locked, updated_at) VALUES (?, 1, CASE WHEN ? <= 1 THEN 1 ELSE 0 END, ?)
		ON CONFLICT(id) DO UPDATE SET failures = admin_devices.failures + 1,
		locked = CASE WHEN admin_devices.locked = 1 OR admin_devices.failures + 1 >= ? THEN 1 ELSE 0 END, updated_at = excluded.updated_at
		RETURNING locked`, id, max, now.Unix(), max).Scan(&locked)
	return locked, err
}

// AdminDeviceSucceeded clears the wrong passwords of a device that is not locked out.
func (s *Store) AdminDeviceSucceeded(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM admin_devices WHERE id = ? AND locked = 0`, id)
	return err
}
