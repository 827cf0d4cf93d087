package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotLinkable is returned by LinkPeople when the two are not people of two sources of one
// plugin with one subject, both not retired.
var ErrNotLinkable = errors.New("not two people of one subject in two sources of one plugin")

// LinkCandidate is a pair of people the admin may link into one: two users rows of two sources
// of the plugin PluginID with the same subject (made before the plugin's subjects joined, or
// before this version). Older is the one made first.
type LinkCandidate struct {
	PluginID     string
	Subject      string
	Older, Newer int64
}

// LinkCandidates lists the pairs of people of one subject in two sources of one plugin, both
// not retired, oldest first. The caller keeps those of plugins that declare global subjects.
func (s *Store) LinkCandidates(ctx context.Context) ([]LinkCandidate, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT sa.plugin_id, a.sub, a.id, b.id FROM users a JOIN sources sa ON sa.id = a.source_id
		JOIN users b ON b.sub = a.sub AND b.id > a.id AND b.source_id <> a.source_id JOIN sources sb ON sb.id = b.source_id AND sb.plugin_id = sa.plugin_id
		WHERE a.linked_to = 0 AND b.linked_to = 0 AND a.sub <> '' ORDER BY a.id, b.id`)
	if err != nil {
		return nil, fmt.Errorf("read the people to link: %w", err)
	}
	defer rows.Close()
	var out []LinkCandidate
	for rows.Next() {
		var c LinkCandidate
		if err := rows.Scan(&c.PluginID, &c.Subject, &c.Older, &c.Newer); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LinkPeople links the person retire into keep, in one transaction: retire's users row becomes
// keep's identity of its source (its re-validation state and its source's groups go to keep,
// and so do its own identities), and retire is retired (LinkedTo keep, disabled, every session,
// token and credential ended): its next sign-in is keep's. ErrNotLinkable unless both are of
// one subject in two sources of one plugin, not retired; the caller chooses which one stays.
func (s *Store) LinkPeople(ctx context.Context, keep, retire int64) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var src, sub, groups string
		var reval []byte
		var n int
		if err := s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM users a JOIN sources sa ON sa.id = a.source_id
			JOIN users b ON b.sub = a.sub AND b.source_id <> a.source_id JOIN sources sb ON sb.id = b.source_id AND sb.plugin_id = sa.plugin_id
			WHERE a.id = ? AND b.id = ? AND a.linked_to = 0 AND b.linked_to = 0`, keep, retire).Scan(&n); err != nil {
			return fmt.Errorf("check the pair: %w", err)
		}
		if n == 0 {
			return ErrNotLinkable
		}
		if err := s.txQueryRow(ctx, tx, `SELECT source_id, sub, groups_json, reval_enc FROM users WHERE id = ?`, retire).Scan(&src, &sub, &groups, &reval); err != nil {
			return fmt.Errorf("read the person to retire: %w", err)
		}
		var theirs []Membership
		_ = json.Unmarshal([]byte(groups), &theirs)
		var kept string
		if err := s.txQueryRow(ctx, tx, `SELECT groups_json FROM users WHERE id = ?`, keep).Scan(&kept); err != nil {
			return fmt.Errorf("read the person kept: %w", err)
		}
		var ms []Membership
		_ = json.Unmarshal([]byte(kept), &ms)
		for _, m := range theirs { // the groups of their sources' logins; an admin-set group stays with the retired
			if m.From != FromAdmin {
				ms = loginMemberships(ms, m.From, append(groupsFrom(ms, m.From), m.Group))
			}
		}
		next, _ := json.Marshal(ms)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE users SET groups_json = ? WHERE id = ?`, []any{string(next), keep}},
			{`UPDATE identities SET user_id = ? WHERE user_id = ?`, []any{keep, retire}},
			{`INSERT INTO identities (source_id, sub, user_id, reval_enc, created_at) VALUES (?, ?, ?, ?, ?)`, []any{src, sub, keep, reval, s.now().Unix()}},
			{`UPDATE users SET linked_to = ?, disabled = 1, disabled_reason = ? WHERE id = ?`, []any{keep, DisabledByLink, retire}},
		} {
			if _, err := s.txExec(ctx, tx, q.sql, q.args...); err != nil {
				return fmt.Errorf("link the people: %w", err)
			}
		}
		return s.endAccess(ctx, tx, retire)
	})
	if err == nil {
		s.changes.Notify(AccessRevoked)
	}
	return err
}

// groupsFrom are the names of the memberships of ms that origin gave.
func groupsFrom(ms []Membership, origin string) []string {
	var out []string
	for _, m := range ms {
		if m.From == origin {
			out = append(out, m.Group)
		}
	}
	return out
}
