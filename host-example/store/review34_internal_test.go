package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Review 34 (security review of issue 34's commits, 1ed6fde..): a transaction that keeps
// losing now waits up to ~1.8 s in all (was ~0.95 s). The wait must stay cheap to force: it
// runs no more attempts than before (maxTxAttempts), holds no connection, and ends as soon as
// the request's context does (a client that hangs up frees it).
func TestReview34RetryWaitIsBoundedAndEndsWithTheClient(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	lose := func(attempts *int) func(*sql.Tx) error {
		return func(*sql.Tx) error { *attempts++; return &pgconn.PgError{Code: "40001"} }
	}
	// Its bound (about 1.8 s in all) is TestRetryPauseGrowsAndIsBounded's; here, the attempts.
	attempts := 0
	err = s.tx(context.Background(), lose(&attempts))
	if attempts != maxTxAttempts || err == nil {
		t.Fatalf("HOLE: %d attempts, %v; want %d attempts and an error", attempts, err, maxTxAttempts)
	}
	// While it waits, the writer's connection is free: another write goes through.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	attempts = 0
	done := make(chan error, 1)
	go func() { done <- s.tx(ctx, lose(&attempts)) }()
	time.Sleep(20 * time.Millisecond)
	if err := s.tx(context.Background(), func(tx *sql.Tx) error {
		_, err := s.txExec(context.Background(), tx, `INSERT INTO meta (key, value) VALUES ('review34', '')`)
		return err
	}); err != nil {
		t.Fatalf("HOLE: a write while another waits to retry: %v", err)
	}
	// Ended by its context, not by running out of attempts (that error would be the 40001).
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("HOLE: the retry wait outlived its context: %v", err)
	}
}
