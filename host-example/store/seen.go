package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// seenLimit bounds each list of names SeenNames returns.
const seenLimit = 500

// SeenNames are the distinct groups and attribute names that logins gave the users of every
// source, sorted: what an admin picks an application's allowed groups and released
// attributes from. Values that are not a list of memberships (groups) or an object (attributes)
// count for nothing.
func (s *Store) SeenNames(ctx context.Context) (groups, attributes []string, err error) {
	rows, err := s.read.QueryContext(ctx, `SELECT groups_json, attributes_json FROM users`)
	if err != nil {
		return nil, nil, fmt.Errorf("names seen: %w", err)
	}
	defer rows.Close()
	gs, as := map[string]bool{}, map[string]bool{}
	for rows.Next() {
		var gj, aj []byte
		if err := rows.Scan(&gj, &aj); err != nil {
			return nil, nil, fmt.Errorf("names seen: %w", err)
		}
		var list []Membership
		if json.Unmarshal(gj, &list) == nil {
			for _, m := range list {
				if m.Group != "" {
					gs[m.Group] = true
				}
			}
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(aj, &obj) == nil {
			for k := range obj {
				as[k] = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("names seen: %w", err)
	}
	return sortedFirst(gs), sortedFirst(as), nil
}

// sortedFirst is set's members, sorted, the first seenLimit of them.
func sortedFirst(set map[string]bool) []string {
	var out []string
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out[:min(len(out), seenLimit)]
}
