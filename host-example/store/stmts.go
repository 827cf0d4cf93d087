package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// cachedDB is a *sql.DB whose queries are prepared once and kept: SQLite spends a large share
// of a small query parsing it (measured on the token endpoint: 18 % of the CPU).
type cachedDB struct {
	*sql.DB
	stmts sync.Map // query → *sql.Stmt
	// pending are queries first seen inside a transaction, prepared at the next use of the
	// database outside one (with one writer connection, preparing inside would deadlock).
	pending sync.Map
	// name is "read" or "write", for the observer.
	name string
	// dialect is the engine's; PostgreSQL's driver caches its own prepared statements.
	dialect dialect
	// observe, when set, is told each query's duration (Store.Observe).
	observe atomic.Pointer[func(db, op string, d time.Duration)]
}

// timed tells the observer, if any, how long op took since start.
func (d *cachedDB) timed(op string, start time.Time) {
	if f := d.observe.Load(); f != nil {
		(*f)(d.name, op, time.Since(start))
	}
}

func (d *cachedDB) prep(ctx context.Context, q string) (*sql.Stmt, error) {
	d.pending.Range(func(k, _ any) bool {
		d.pending.Delete(k)
		_, _ = d.prepOne(ctx, k.(string))
		return true
	})
	return d.prepOne(ctx, q)
}

func (d *cachedDB) prepOne(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := d.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := d.DB.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if old, loaded := d.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

// QueryRowContext runs q as a cached prepared statement.
func (d *cachedDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	defer d.timed("query", time.Now())
	if d.dialect == postgresDialect {
		return d.DB.QueryRowContext(ctx, d.dialect.rebind(q), d.dialect.args(args)...)
	}
	st, err := d.prep(ctx, q)
	if err != nil {
		return d.DB.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// QueryContext runs q as a cached prepared statement.
func (d *cachedDB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	defer d.timed("query", time.Now())
	if d.dialect == postgresDialect {
		return d.DB.QueryContext(ctx, d.dialect.rebind(q), d.dialect.args(args)...)
	}
	st, err := d.prep(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// ExecContext runs q as a cached prepared statement.
func (d *cachedDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	defer d.timed("exec", time.Now())
	if d.dialect == postgresDialect {
		return d.DB.ExecContext(ctx, d.dialect.rebind(q), d.dialect.args(args)...)
	}
	st, err := d.prep(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// inTx is q's cached statement for tx, or nil (then q is queued to be prepared later).
func (d *cachedDB) inTx(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	if d.dialect == postgresDialect {
		return nil
	}
	if st, ok := d.stmts.Load(q); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt))
	}
	d.pending.Store(q, true)
	return nil
}

// txExec runs q in tx, with the writer's cached statement once there is one.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	defer s.db.timed("exec", time.Now())
	if st := s.db.inTx(ctx, tx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, s.dialect.rebind(q), s.dialect.args(args)...)
}

// txQueryRow runs q in tx, with the writer's cached statement once there is one.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	defer s.db.timed("query", time.Now())
	if st := s.db.inTx(ctx, tx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, s.dialect.rebind(q), s.dialect.args(args)...)
}

// txQuery runs q in tx (rows: queries outside the hot path, not cached).
func (s *Store) txQuery(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	defer s.db.timed("query", time.Now())
	return tx.QueryContext(ctx, s.dialect.rebind(q), s.dialect.args(args)...)
}

// Close closes the cached statements and the database.
func (d *cachedDB) Close() error {
	d.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	return d.DB.Close()
}
