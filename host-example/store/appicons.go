package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// An app's icon, as the admin uploaded it for the friends' portal: the host checks its
// format (host.CheckIcon); the store keeps the bytes beside their content type. Deleting the
// app deletes its icon (DeleteOIDCClient, DeleteForwardRule).

// IconKind is what kind of app an icon belongs to.
type IconKind string

// The kinds of app an icon belongs to.
const (
	// ClientIcon is an OpenID Connect application's (its client id).
	ClientIcon IconKind = "client"
	// RuleIcon is a protected app's (its rule id).
	RuleIcon IconKind = "rule"
)

// AppIcon is an app's icon.
type AppIcon struct {
	Kind        IconKind
	AppID       string
	ContentType string
	Data        []byte
	UpdatedAt   time.Time
}

// AppIconRef names an app's icon.
type AppIconRef struct {
	Kind  IconKind
	AppID string
}

// PutAppIcon stores (or replaces) an app's icon.
func (s *Store) PutAppIcon(ctx context.Context, ic AppIcon) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO app_icons (kind, app_id, content_type, data, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, app_id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data, updated_at = excluded.updated_at`,
		string(ic.Kind), ic.AppID, ic.ContentType, ic.Data, s.now().Unix())
	if err != nil {
		return fmt.Errorf("store the icon of %s %s: %w", ic.Kind, ic.AppID, err)
	}
	return nil
}

// DeleteAppIcon removes an app's icon (none: no error).
func (s *Store) DeleteAppIcon(ctx context.Context, kind IconKind, appID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM app_icons WHERE kind = ? AND app_id = ?`, string(kind), appID); err != nil {
		return fmt.Errorf("delete the icon of %s %s: %w", kind, appID, err)
	}
	return nil
}

// AppIcon reads an app's icon (ErrNotFound: none).
func (s *Store) AppIcon(ctx context.Context, kind IconKind, appID string) (*AppIcon, error) {
	ic := AppIcon{Kind: kind, AppID: appID}
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT content_type, data, updated_at FROM app_icons WHERE kind = ? AND app_id = ?`, string(kind), appID).
		Scan(&ic.ContentType, &ic.Data, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read the icon of %s %s: %w", kind, appID, err)
	}
	ic.UpdatedAt = time.Unix(at, 0)
	return &ic, nil
}

// AppIconStamps are when each stored icon was last changed, by app (not the icons).
func (s *Store) AppIconStamps(ctx context.Context) (map[AppIconRef]time.Time, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT kind, app_id, updated_at FROM app_icons`)
	if err != nil {
		return nil, fmt.Errorf("list the icons: %w", err)
	}
	defer rows.Close()
	out := map[AppIconRef]time.Time{}
	for rows.Next() {
		var kind, id string
		var at int64
		if err := rows.Scan(&kind, &id, &at); err != nil {
			return nil, fmt.Errorf("list the icons: %w", err)
		}
		out[AppIconRef{Kind: IconKind(kind), AppID: id}] = time.Unix(at, 0)
	}
	return out, rows.Err()
}
