package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
)

// openPaced opens a SQLite store under a new folder with the checkpointer at cfg's pace.
func openPaced(t *testing.T, cfg checkpointConfig) *Store {
	t.Helper()
	s, err := openSQLiteWith(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writeRows commits n rows of about 2 KB each, one transaction each, as requests do.
func writeRows(t *testing.T, s *Store, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := s.SetMeta(context.Background(), fmt.Sprintf("row-%d", i), strings.Repeat("x", 2000)); err != nil {
			t.Fatal(err)
		}
	}
}

// No connection of the store checkpoints on commit: the checkpointer does.
func TestNoCheckpointOnCommit(t *testing.T) {
	s := openPaced(t, checkpointConfig{bound: 1 << 20})
	for name, db := range map[string]*sql.DB{"write": s.db.DB, "read": s.read.DB} {
		var n int
		if err := db.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s connection: wal_autocheckpoint %d, %v; want 0", name, n, err)
		}
	}
}

// Sustained writes keep the WAL under its bound; a long-lived reader holds the checkpoints
// back (the WAL passes the bound, and no RESTART stalls the writers meanwhile); once it
// ends, a RESTART starts the log over and the file is cut back under the bound; idle, the
// WAL is truncated. The test runs the checkpointer's steps itself (no clock).
func TestCheckpointerBoundsTheWAL(t *testing.T) {
	const bound = 256 << 10
	s := openPaced(t, checkpointConfig{bound: bound, grow: 64 << 10})
	c := s.ckpt
	ctx := context.Background()
	row := 0
	batch := func() { // about 20 commits of a page or two each: some 160 KB of WAL
		writeRows(t, s, row, 20)
		row += 20
	}
	for range 10 { // the first step finds the migrations' WAL idle and truncates it
		c.step()
		batch()
		if n := c.walSize(); n > bound {
			t.Fatalf("sustained writes: WAL %d bytes, past its bound %d", n, bound)
		}
	}
	if c.passive.Load() == 0 {
		t.Fatal("no PASSIVE checkpoint ran")
	}

	reader, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var before int
	if err := reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM meta`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		batch()
		c.step()
		c.grew()
	}
	if n := c.walSize(); n <= bound {
		t.Fatalf("with a long reader the WAL stayed at %d bytes: the test does not hold the checkpoints back", n)
	}
	if n := c.restart.Load(); n != 0 {
		t.Fatalf("%d RESTARTs ran while a reader held frames back (each stalls the writers)", n)
	}
	var still int
	if err := reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM meta`).Scan(&still); err != nil || still != before {
		t.Fatalf("the long reader's snapshot changed: %d rows, then %d (%v)", before, still, err)
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}

	writeRows(t, s, row, 1)
	row++
	c.step()
	if c.restart.Load() == 0 {
		t.Fatalf("the reader ended and the WAL is %d bytes (bound %d): no RESTART ran", c.walSize(), bound)
	}
	truncates := c.truncate.Load()
	for range 3 {
		batch()
		if n := c.walSize(); n > bound {
			t.Fatalf("after the RESTART: WAL %d bytes, past its bound %d", n, bound)
		}
		c.step()
	}
	c.step() // no commit since the last step: idle
	if c.truncate.Load() == truncates || c.walSize() != 0 {
		t.Fatalf("idle: %d TRUNCATEs, WAL %d bytes; want the WAL truncated", c.truncate.Load()-truncates, c.walSize())
	}
	if err := c.err(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM meta WHERE key LIKE 'row-%'`).Scan(&n); err != nil || n != row {
		t.Fatalf("%d rows (%v), want %d", n, err, row)
	}
}

// The checkpointer runs on its own clock while the store is open, and Close stops it and
// closes its connection before the store's.
func TestCheckpointerStopsWithTheStore(t *testing.T) {
	dir := t.TempDir()
	s, err := openSQLiteWith(dir, checkpointConfig{every: 2 * time.Millisecond, poll: time.Millisecond, grow: 16 << 10, bound: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	c := s.ckpt
	writeRows(t, s, 0, 200)
	deadline := time.Now().Add(2 * time.Minute) // not a speed check: a stuck checkpointer fails here, not at go test's timeout
	for c.passive.Load() == 0 || c.truncate.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no PASSIVE and TRUNCATE in 2 minutes: %d, %d (%v)", c.passive.Load(), c.truncate.Load(), c.err())
		}
		select {
		case <-c.done:
			t.Fatal("the checkpointer stopped while the store is open")
		default:
		}
		time.Sleep(time.Millisecond) // idle: waiting for the TRUNCATE
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	default:
		t.Fatal("Close returned with the checkpointer running")
	}
	if n := c.db.Stats().OpenConnections; n != 0 {
		t.Fatalf("the checkpointer's connection is still open (%d)", n)
	}
	if err := c.err(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir) // reopens: every row is there
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.read.QueryRow(`SELECT COUNT(*) FROM meta WHERE key LIKE 'row-%'`).Scan(&n); err != nil || n != 200 {
		t.Fatalf("%d rows after reopening (%v), want 200", n, err)
	}
}

// A RESTART holds the write lock while it waits for readers: a write transaction that reads
// before it writes, meanwhile, waits for the lock instead of failing with SQLITE_BUSY (it
// did when write transactions began deferred: SQLite does not wait to upgrade a read).
func TestRestartNeverFailsAWriter(t *testing.T) {
	s := openPaced(t, checkpointConfig{bound: 64 << 10})
	c := s.ckpt
	ctx := context.Background()
	writeRows(t, s, 0, 10)
	// A reader on the WAL: its snapshot is the WAL's last frame, so once the PASSIVE below has
	// copied every frame it holds none back, but it still reads through the WAL, and the
	// RESTART waits for it (checkpointBusy). (A reader that began after the PASSIVE would read
	// the database file alone, and no RESTART would wait for it.)
	reader, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Rollback()
	var n int
	if err := reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM meta`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if r, err := c.checkpoint("PASSIVE", &c.passive); err != nil || r.log != r.copied {
		t.Fatalf("PASSIVE: %+v, %v; want every frame copied", r, err)
	}
	done := make(chan checkpointResult)
	go func() {
		r, _ := c.checkpoint("RESTART", &c.restart)
		done <- r
	}()
	writes := 0
	for restarting := true; restarting; writes++ {
		select {
		case r := <-done:
			if r.busy == 0 {
				t.Fatalf("the RESTART did not wait for the reader (%+v): the test shows nothing", r)
			}
			restarting = false
		default:
		}
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var k int
			if err := s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM meta`).Scan(&k); err != nil {
				return err
			}
			_, err := s.txExec(ctx, tx, `INSERT INTO meta (key, value) VALUES (?, '')`, fmt.Sprintf("during-%d", writes))
			return err
		})
		if err != nil {
			t.Fatalf("write %d during a RESTART: %v", writes, err)
		}
	}
	t.Logf("%d writes during the RESTART's wait", writes)
}
