package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// dialect is the SQL engine under a Store: the queries are written once, in the SQL both
// engines read, with SQLite's ? placeholders; PostgreSQL gets them rewritten (rebind).
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// String names the dialect in messages.
func (d dialect) String() string {
	if d == postgresDialect {
		return "PostgreSQL"
	}
	return "SQLite"
}

// rebound caches rewritten queries (query → its PostgreSQL form).
var rebound sync.Map

// rebind is q for d: for PostgreSQL, ? placeholders become $1, $2 … (outside quoted text)
// and SQLite's LIMIT -1 ("no limit") becomes LIMIT ALL.
func (d dialect) rebind(q string) string {
	if d != postgresDialect {
		return q
	}
	if r, ok := rebound.Load(q); ok {
		return r.(string)
	}
	var b strings.Builder
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	r := strings.ReplaceAll(b.String(), "LIMIT -1", "LIMIT ALL")
	rebound.Store(q, r)
	return r
}

// args are args for d: PostgreSQL's integer columns take booleans as 0 and 1, as SQLite's do.
func (d dialect) args(args []any) []any {
	if d != postgresDialect {
		return args
	}
	var out []any // a copy once a boolean is met: the caller's slice stays as it was
	for i, a := range args {
		if v, ok := a.(bool); ok {
			if out == nil {
				out = slices.Clone(args)
			}
			out[i] = int64(0)
			if v {
				out[i] = int64(1)
			}
		}
	}
	if out == nil {
		return args
	}
	return out
}

// retryable reports whether err is PostgreSQL refusing a transaction that may succeed when
// run again: a serialization failure (40001) or a deadlock (40P01).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// Unavailable reports whether err is the database being out of reach (a restart, a
// failover, a lost connection) rather than an answer about the data: such a request may
// succeed a moment later.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exceptions; 57P01–57P03: the server shutting down or starting.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "sql: database is closed") ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "unexpected EOF")
}

// isUniqueViolation reports whether err is either engine refusing a row that breaks a
// UNIQUE constraint.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// maxTxAttempts bounds how often a write transaction is run again after a serialization failure.
const maxTxAttempts = 20

// retryPause is how long a transaction that lost attempt times waits before the next
// attempt: a random time up to a ceiling that doubles with each loss, from 2 ms to 128 ms
// (full jitter). Transactions that keep meeting, as a burst of sign-ins on a small table whose
// reads PostgreSQL locks as a whole relation, spread out instead of meeting again; a pause
// that grew only linearly (up to 5 ms × the attempt) let 8 seeders lose 20 times in a row.
func retryPause(attempt int) time.Duration {
	ceiling := 2 * time.Millisecond << min(attempt-1, 6)
	return time.Duration(1 + mrand.Int64N(int64(ceiling)))
}

// tx runs fn in a write transaction. On PostgreSQL it is SERIALIZABLE (what SQLite's one
// writer gives) and run again, after a short random pause, when PostgreSQL refuses it for a
// concurrent one; fn must therefore have no effect outside the transaction.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	var opts *sql.TxOptions
	if s.dialect == postgresDialect {
		opts = &sql.TxOptions{Isolation: sql.LevelSerializable}
	}
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, opts, fn)
		if err == nil || !retryable(err) || attempt == maxTxAttempts {
			if err != nil && retryable(err) {
				return fmt.Errorf("a write transaction lost to concurrent ones %d times: %w", attempt, err)
			}
			return err
		}
		if f := s.onRetry.Load(); f != nil {
			(*f)()
		}
		pause := retryPause(attempt)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// tryTx runs fn in one transaction with opts.
func (s *Store) tryTx(ctx context.Context, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
