package store

import (
	"context"
	"fmt"
	"strconv"
)

// AdvanceMetaStep raises the number kept under key to step, atomically, only if step is
// greater than it (or none is kept): true when it did. A one-time code's time step is claimed
// this way, so two requests racing with one code cannot both use it.
func (s *Store) AdvanceMetaStep(ctx context.Context, key string, step int64) (bool, error) {
	r, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value
		WHERE CASE WHEN meta.value = '' THEN 1 WHEN CAST(meta.value AS BIGINT) < CAST(excluded.value AS BIGINT) THEN 1 ELSE 0 END = 1`, key, strconv.FormatInt(step, 10))
	if err != nil {
		return false, fmt.Errorf("advance %s: %w", key, err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}
