package store

import (
	"context"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/postgrestest"
)

// waitMoved waits until topic's version on s passes before, failing after a deadline.
func waitMoved(t *testing.T, s *Store, topic Topic, before uint64, what string) time.Duration {
	t.Helper()
	start := time.Now()
	for s.Changes().Version(topic) == before {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("%s: the other replica never learned of it", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// logTo is a logger of t in Follow's form (a message, then keys and values).
func logTo(t *testing.T) func(string, ...any) {
	return func(msg string, args ...any) { t.Log(append([]any{msg}, args...)...) }
}

// second opens another replica's store on s's database (same key).
func second(t *testing.T, url, dir string) *Store {
	t.Helper()
	b, err := OpenWith(context.Background(), Options{Database: url, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// A change committed by one replica reaches another's caches by LISTEN/NOTIFY, well before
// its poll; after the LISTEN connection is killed every cache is flushed and changes keep
// arriving; with LISTEN unavailable, polling alone carries them.
func TestPostgresChangeFeed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, dir := postgrestest.Shared(t).NewDatabase(t), t.TempDir()
	a, b := second(t, url, dir), second(t, url, dir) // both replicas read the key from one folder
	go b.Follow(ctx, time.Hour, logTo(t))            // an hour: only a notification can be quick
	for b.Feed().Listening == false {
		time.Sleep(10 * time.Millisecond)
	}
	before := b.Changes().Version(ForwardRules)
	if _, err := a.PutForwardRule(ctx, ForwardRule{Host: "app.example.test"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("a rule change reached the other replica in %s", waitMoved(t, b, ForwardRules, before, "a rule change"))
	before = b.Changes().Version(AccessRevoked)
	if err := a.DeleteForwardSession(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	waitMoved(t, b, AccessRevoked, before, "a forward-auth logout")

	// Kill b's LISTEN connection: every topic is flushed, and notifications resume.
	keys := b.Changes().Version(SigningKeys)
	if _, err := a.db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	waitMoved(t, b, SigningKeys, keys, "the flush after a lost LISTEN connection")
	for b.Feed().Listening == false {
		time.Sleep(10 * time.Millisecond)
	}
	before = b.Changes().Version(OIDCClients)
	if err := a.PutOIDCClient(ctx, OIDCClient{ID: "c1", Name: "c"}); err != nil {
		t.Fatal(err)
	}
	waitMoved(t, b, OIDCClients, before, "a client change after the reconnect")

	// Without LISTEN (PgBouncer in transaction mode), polling carries the changes.
	c := second(t, url, dir)
	c.noListen = true
	go c.Follow(ctx, 50*time.Millisecond, logTo(t))
	for c.Feed().Polled.IsZero() {
		time.Sleep(10 * time.Millisecond)
	}
	if c.Feed().Listening {
		t.Fatal("a replica without LISTEN says it listens")
	}
	before = c.Changes().Version(ForwardRules)
	if _, err := a.PutForwardRule(ctx, ForwardRule{Host: "other.example.test"}); err != nil {
		t.Fatal(err)
	}
	waitMoved(t, c, ForwardRules, before, "a rule change, polled")
}

// A database-wide job runs on one replica at a time; when the replica holding it loses its
// lock connection, its job's context ends and another replica may take the job.
func TestPostgresRunAlone(t *testing.T) {
	ctx := context.Background()
	url, dir := postgrestest.Shared(t).NewDatabase(t), t.TempDir()
	a, b := second(t, url, dir), second(t, url, dir)
	started, release := make(chan struct{}), make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		_, err := a.RunAlone(ctx, "purge", func(jctx context.Context) {
			close(started)
			select {
			case <-release:
			case <-jctx.Done():
				ended <- jctx.Err()
			}
		})
		if err != nil {
			ended <- err
		}
		close(ended)
	}()
	<-started
	ran, err := b.RunAlone(ctx, "purge", func(context.Context) { t.Error("ran twice at once") })
	if err != nil || ran {
		t.Fatalf("the second replica: ran %v, %v", ran, err)
	}
	if ran, err := b.RunAlone(ctx, "other-job", func(context.Context) {}); err != nil || !ran {
		t.Fatalf("another job: ran %v, %v", ran, err)
	}
	// The lock's connection dies: a's job is told to stop, and b can take it.
	if _, err := b.db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid != pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	if err := <-ended; err == nil {
		t.Fatal("the job went on after its lock was lost")
	}
	close(release)
	if ran, err := b.RunAlone(ctx, "purge", func(context.Context) {}); err != nil || !ran {
		t.Fatalf("after the first replica lost the lock: ran %v, %v", ran, err)
	}
}
