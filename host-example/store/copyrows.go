package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// copySkip are the rows a copy leaves out, by table: the target's own record of its key,
// and a backup file's record of the key it was sealed with (a fact of that file).
var copySkip = map[string]string{"meta": `key NOT IN ('` + metaInstallKey + `', '` + metaKeyID + `')`}

// targetExpected are the rows an empty target may hold, by table: the fingerprint of its
// key, written when OpenWith opened it with the source's key.
var targetExpected = map[string]string{"meta": `key = '` + metaInstallKey + `'`}

// pgColumn is one column of a target table.
type pgColumn struct {
	name, typ string
	identity  bool
}

// copyTo copies every row of every table of the SQLite store s, read in one snapshot, into
// the empty PostgreSQL store dst in one transaction, and sets dst's identity sequences past
// the copied ids (past every id SQLite ever gave: its AUTOINCREMENT never reuses one).
func (s *Store) copyTo(ctx context.Context, dst *Store) ([]TableCount, error) {
	if s.dialect != sqliteDialect || dst.dialect != postgresDialect {
		return nil, fmt.Errorf("copy from %s to %s: only SQLite to PostgreSQL", s.dialect, dst.dialect)
	}
	rtx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin reading the source: %w", err)
	}
	defer rtx.Rollback()
	var v int
	if err := rtx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil { // the snapshot begins here
		return nil, fmt.Errorf("read the source's schema version: %w", err)
	}
	if v != schemaVersion() {
		return nil, fmt.Errorf("the source has schema version %d, this binary %d: run the binary that matches it", v, schemaVersion())
	}
	srcTables, err := sqliteColumns(ctx, rtx)
	if err != nil {
		return nil, fmt.Errorf("read the source's tables: %w", err)
	}
	conn, err := dst.conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", dst.where, err)
	}
	defer conn.Close(context.Background())
	wtx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return nil, fmt.Errorf("begin writing %s: %w", dst.where, err)
	}
	defer wtx.Rollback(context.Background())
	dstTables, err := postgresColumns(ctx, wtx)
	if err != nil {
		return nil, fmt.Errorf("read the target's tables: %w", err)
	}
	if err := sameTables(srcTables, dstTables); err != nil {
		return nil, err
	}
	names := slices.Sorted(maps.Keys(dstTables))
	if err := targetEmpty(ctx, wtx, names, dst.where); err != nil {
		return nil, err
	}
	var counts []TableCount
	for _, t := range names {
		n, err := copyTable(ctx, rtx, wtx, t, dstTables[t])
		if err != nil {
			return nil, fmt.Errorf("copy table %s: %w", t, err)
		}
		counts = append(counts, TableCount{Table: t, Rows: n})
		for _, c := range dstTables[t] {
			if c.identity {
				if err := setIdentity(ctx, rtx, wtx, t, c.name); err != nil {
					return nil, fmt.Errorf("set the sequence of %s.%s: %w", t, c.name, err)
				}
			}
		}
	}
	if err := wtx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit the copy into %s: %w", dst.where, err)
	}
	return counts, nil
}

// sqliteColumns are the source's tables (but schema_version and SQLite's own) with their
// columns.
func sqliteColumns(ctx context.Context, tx *sql.Tx) (map[string][]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name != 'schema_version' ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, err
		}
		out[t] = append(out[t], c)
	}
	return out, rows.Err()
}

// postgresColumns are the target's tables (but schema_version) with their columns.
func postgresColumns(ctx context.Context, tx pgx.Tx) (map[string][]pgColumn, error) {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name, data_type, is_identity = 'YES' FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name != 'schema_version'
		AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')
		ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]pgColumn{}
	for rows.Next() {
		var t string
		var c pgColumn
		if err := rows.Scan(&t, &c.name, &c.typ, &c.identity); err != nil {
			return nil, err
		}
		out[t] = append(out[t], c)
	}
	return out, rows.Err()
}

// sameTables refuses to copy unless both databases have the same tables with the same
// columns (both are at this binary's schema version, so a difference is a bug to fix
// rather than data to leave behind).
func sameTables(src map[string][]string, dst map[string][]pgColumn) error {
	var diffs []string
	for _, t := range slices.Sorted(maps.Keys(src)) {
		if _, ok := dst[t]; !ok {
			diffs = append(diffs, "table "+t+" is only in the source")
		}
	}
	for _, t := range slices.Sorted(maps.Keys(dst)) {
		cols, ok := src[t]
		if !ok {
			diffs = append(diffs, "table "+t+" is only in the target")
			continue
		}
		var want []string
		for _, c := range dst[t] {
			want = append(want, c.name)
		}
		if a, b := slices.Sorted(slices.Values(cols)), slices.Sorted(slices.Values(want)); !slices.Equal(a, b) {
			diffs = append(diffs, fmt.Sprintf("table %s has columns %s in the source, %s in the target", t, strings.Join(a, ","), strings.Join(b, ",")))
		}
	}
	if diffs != nil {
		return fmt.Errorf("the two schemas differ, nothing copied: %s", strings.Join(diffs, "; "))
	}
	return nil
}

// targetEmpty refuses (ErrTargetNotEmpty) a target holding any row but targetExpected's.
func targetEmpty(ctx context.Context, tx pgx.Tx, tables []string, where string) error {
	var full []string
	for _, t := range tables {
		q := `SELECT EXISTS (SELECT 1 FROM ` + pgx.Identifier{t}.Sanitize()
		if keep, ok := targetExpected[t]; ok {
			q += ` WHERE NOT (` + keep + `)`
		}
		var found bool
		if err := tx.QueryRow(ctx, q+`)`).Scan(&found); err != nil {
			return fmt.Errorf("check that %s is empty: %w", where, err)
		}
		if found {
			full = append(full, t)
		}
	}
	if full != nil {
		return fmt.Errorf("%w: %s has rows in %s; copy into a new, empty database (createdb), never over an installation",
			ErrTargetNotEmpty, where, strings.Join(full, ", "))
	}
	return nil
}

// copyTable streams table t's rows from the source snapshot into the target with COPY and
// answers how many there were.
func copyTable(ctx context.Context, rtx *sql.Tx, wtx pgx.Tx, t string, cols []pgColumn) (int64, error) {
	names := make([]string, len(cols))
	quoted := make([]string, len(cols))
	for i, c := range cols {
		names[i], quoted[i] = c.name, pgx.Identifier{c.name}.Sanitize()
	}
	q := `SELECT ` + strings.Join(quoted, ", ") + ` FROM ` + pgx.Identifier{t}.Sanitize()
	if skip, ok := copySkip[t]; ok {
		q += ` WHERE ` + skip
	}
	rows, err := rtx.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	next := func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(cols))
		for i, c := range cols {
			v, err := copyValue(vals[i], c.typ)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", c.name, err)
			}
			row[i] = v
		}
		return row, nil
	}
	n, err := wtx.CopyFrom(ctx, pgx.Identifier{t}, names, pgx.CopyFromFunc(next))
	if err != nil {
		return n, err
	}
	return n, rows.Err()
}

// copyValue is a SQLite value v as PostgreSQL's column type typ takes it, unchanged; a
// value that would change (a fraction in an integer column, bytes that are not text) is an
// error, never rounded or dropped.
func copyValue(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "bigint", "integer", "smallint":
		if i, ok := v.(int64); ok {
			return i, nil
		}
	case "text":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			if utf8.Valid(x) {
				return string(x), nil
			}
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	default:
		return nil, fmt.Errorf("copy-store does not know how to copy a %s column", typ)
	}
	return nil, fmt.Errorf("a %T value does not fit a %s column unchanged", v, typ)
}

// setIdentity sets the sequence of the identity column t.c past both the largest copied
// id and the largest id SQLite ever gave in t (sqlite_sequence), so no id is given twice.
func setIdentity(ctx context.Context, rtx *sql.Tx, wtx pgx.Tx, t, c string) error {
	var given int64
	err := rtx.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = ?`, t).Scan(&given)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read the source's sequence: %w", err)
	}
	var copied int64
	if err := wtx.QueryRow(ctx, `SELECT COALESCE(MAX(`+pgx.Identifier{c}.Sanitize()+`), 0) FROM `+pgx.Identifier{t}.Sanitize()).Scan(&copied); err != nil {
		return err
	}
	last := max(given, copied)
	if last == 0 {
		return nil // nothing given yet: the sequence starts at 1
	}
	_, err = wtx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), $3)`, pgx.Identifier{t}.Sanitize(), c, last)
	return err
}
