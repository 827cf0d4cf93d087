package store

import (
	"context"
	"fmt"
)

// seenLimit bounds each list of names SeenNames returns.
const seenLimit = 500

// SeenNames are the distinct groups and attribute names that logins gave the users of every
// source, sorted: what an admin picks an application's allowed groups and released
// attributes from.
func (s *Store) SeenNames(ctx context.Context) (groups, attributes []string, err error) {
	if groups, err = s.distinct(ctx, `SELECT DISTINCT j.value FROM users, json_each(CASE WHEN json_valid(users.groups_json) THEN users.groups_json ELSE '[]' END) j
		WHERE j.type = 'text' AND j.value != '' ORDER BY 1 LIMIT ?`); err != nil {
		return nil, nil, fmt.Errorf("groups seen: %w", err)
	}
	if attributes, err = s.distinct(ctx, `SELECT DISTINCT j.key FROM users, json_each(CASE WHEN NOT json_valid(users.attributes_json) THEN '{}'
		WHEN json_type(users.attributes_json) = 'object' THEN users.attributes_json ELSE '{}' END) j ORDER BY 1 LIMIT ?`); err != nil {
		return nil, nil, fmt.Errorf("attributes seen: %w", err)
	}
	return groups, attributes, nil
}

// distinct runs a query of one text column, limited to seenLimit rows.
func (s *Store) distinct(ctx context.Context, q string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, q, seenLimit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
