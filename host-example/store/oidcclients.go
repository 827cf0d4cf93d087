package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// OIDCClient is an application registered with the OpenID Connect provider.
type OIDCClient struct {
	ID           string
	Name         string
	SecretSHA256 string // hex; empty for a public client
	Public       bool
	RedirectURIs []string
	// PostLogoutURIs are the exact post_logout_redirect_uri values accepted.
	PostLogoutURIs []string
	GrantTypes     []string
	// AllowedGroups, when not empty, are the groups of which a user must be in one.
	AllowedGroups []string
	// ReleaseAttributes are the extra mapped attributes released to this client.
	ReleaseAttributes []string
	// LaunchURL is where a person opens the application from the portal ("": not shown there).
	LaunchURL string
	// IDTokenAlg is the algorithm its id_tokens are signed with ("": the provider's default).
	IDTokenAlg string
	// Origin is "ui" (admin page) or "file" (-oidc-clients, read-only in the UI).
	Origin    string
	CreatedAt time.Time
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// PutOIDCClient creates or replaces a client.
func (s *Store) PutOIDCClient(ctx context.Context, c OIDCClient) error {
	_, err := s.execChanging(ctx, OIDCClients, `INSERT INTO oidc_clients (id, name, secret_sha256, public, redirect_uris, post_logout_uris, grant_types,
		allowed_groups, release_attributes, origin, launch_url, id_token_alg, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_sha256 = excluded.secret_sha256, public = excluded.public,
		redirect_uris = excluded.redirect_uris, post_logout_uris = excluded.post_logout_uris, grant_types = excluded.grant_types,
		allowed_groups = excluded.allowed_groups, release_attributes = excluded.release_attributes, origin = excluded.origin,
		launch_url = excluded.launch_url, id_token_alg = excluded.id_token_alg`,
		c.ID, c.Name, c.SecretSHA256, c.Public, jsonList(c.RedirectURIs), jsonList(c.PostLogoutURIs), jsonList(c.GrantTypes),
		jsonList(c.AllowedGroups), jsonList(c.ReleaseAttributes), c.Origin, c.LaunchURL, c.IDTokenAlg, s.now().Unix())

	return err
}

const clientCols = `id, name, secret_sha256, public, redirect_uris, post_logout_uris, grant_types, allowed_groups, release_attributes, origin, launch_url, id_token_alg, created_at`

func scanClient(row interface{ Scan(...any) error }) (*OIDCClient, error) {
	var c OIDCClient
	var ru, pl, gt, ag, ra string
	var created int64
	if err := row.Scan(&c.ID, &c.Name, &c.SecretSHA256, &c.Public, &ru, &pl, &gt, &ag, &ra, &c.Origin, &c.LaunchURL, &c.IDTokenAlg, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	for p, s := range map[*[]string]string{&c.RedirectURIs: ru, &c.PostLogoutURIs: pl, &c.GrantTypes: gt, &c.AllowedGroups: ag, &c.ReleaseAttributes: ra} {
		_ = json.Unmarshal([]byte(s), p)
	}
	c.CreatedAt = time.Unix(created, 0)
	return &c, nil
}

// OIDCClientByID reads a client.
func (s *Store) OIDCClientByID(ctx context.Context, id string) (*OIDCClient, error) {
	return scanClient(s.read.QueryRowContext(ctx, `SELECT `+clientCols+` FROM oidc_clients WHERE id = ?`, id))
}

// OIDCClients lists the clients by name.
func (s *Store) OIDCClients(ctx context.Context) ([]*OIDCClient, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+clientCols+` FROM oidc_clients ORDER BY name, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*OIDCClient
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteOIDCClient removes a client and ends its tokens.
func (s *Store) DeleteOIDCClient(ctx context.Context, id string) error {
	defer s.changes.Notify(OIDCClients)
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM oidc_clients WHERE id = ?`, `DELETE FROM app_icons WHERE kind = '` + string(ClientIcon) + `' AND app_id = ?`, `UPDATE oidc_tokens SET revoked = 1 WHERE client_id = ?`,
			`UPDATE oidc_refresh SET revoked = 1 WHERE client_id = ?`} {
			if _, err := s.txExec(ctx, tx, q, id); err != nil {
				return err
			}
		}
		return s.changed(ctx, tx, OIDCClients)
	})
}
