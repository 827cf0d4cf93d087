package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// changesChannel is the PostgreSQL notification channel of committed changes; a
// notification's payload is the topic's number.
const changesChannel = "host_example_changes"

// changed records, in tx, a change of topic for the other replicas of a shared database: the
// topic's version in change_versions moves and a notification is sent when tx commits. On
// SQLite (one process) it does nothing: Notify after the commit is all there is to tell.
func (s *Store) changed(ctx context.Context, tx *sql.Tx, t Topic) error {
	if s.dialect != postgresDialect {
		return nil
	}
	if _, err := s.txExec(ctx, tx, `INSERT INTO change_versions (topic, version) VALUES (?, 1)
		ON CONFLICT (topic) DO UPDATE SET version = change_versions.version + 1`, int64(t)); err != nil {
		return fmt.Errorf("record a change: %w", err)
	}
	if _, err := s.txExec(ctx, tx, `SELECT pg_notify(?, ?)`, changesChannel, fmt.Sprint(int(t))); err != nil {
		return fmt.Errorf("announce a change: %w", err)
	}
	return nil
}

// execChanging runs one statement that changes data of topic, recording the change for the
// other replicas in the same transaction, and announces it here once committed.
func (s *Store) execChanging(ctx context.Context, t Topic, q string, args ...any) (sql.Result, error) {
	if s.dialect != postgresDialect { // one process: the statement alone, then the announcement
		res, err := s.db.ExecContext(ctx, q, args...)
		if err == nil {
			s.changes.Notify(t)
		}
		return res, err
	}
	var res sql.Result
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if res, err = s.txExec(ctx, tx, q, args...); err != nil {
			return err
		}
		return s.changed(ctx, tx, t)
	})
	if err != nil {
		return nil, err
	}
	s.changes.Notify(t)
	return res, nil
}

// FeedStatus is how a replica learns of the others' changes.
type FeedStatus struct {
	// Listening: LISTEN works, so changes arrive within moments; else they arrive by polling.
	Listening bool
	// Polled is when the change versions were last read.
	Polled time.Time
}

// Shared reports whether the database is shared by replicas (PostgreSQL).
func (s *Store) Shared() bool { return s.dialect == postgresDialect }

// Feed reports how the change feed runs (zero on SQLite).
func (s *Store) Feed() FeedStatus {
	if f := s.feed.Load(); f != nil {
		return *f
	}
	return FeedStatus{}
}

// Follow feeds Changes with the changes other replicas of a shared database commit, until
// ctx ends: it reads the topics' versions at least every poll, and at once when a
// notification arrives on a dedicated LISTEN connection. Once listening again after that
// connection was lost (notifications sent meanwhile are lost) every topic is announced, so
// every cache is flushed; while the database is away nothing is flushed, so cached answers
// go on within their bounds. Where LISTEN cannot work (PgBouncer in transaction mode)
// polling alone remains.
// On SQLite it returns at once.
func (s *Store) Follow(ctx context.Context, poll time.Duration, log func(msg string, args ...any)) {
	if s.dialect != postgresDialect {
		return
	}
	seen := map[Topic]int64{}
	_ = s.syncVersions(ctx, seen, false)
	pause, lost := time.Second, false
	for ctx.Err() == nil {
		conn, err := s.conn(ctx)
		if err == nil && s.noListen {
			conn.Close(context.Background())
			conn, err = nil, errors.New("LISTEN turned off")
		}
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
				conn.Close(context.Background())
				conn = nil
			}
		}
		if conn == nil {
			// Polling carries every change (the versions are in the database); cached
			// answers keep serving within their bounds while the database is away.
			s.feed.Store(&FeedStatus{Polled: s.Feed().Polled})
			log("change feed: LISTEN unavailable, polling", "every", poll, "error", err)
			s.poll(ctx, seen, poll, pause)
			pause = min(2*pause, 30*time.Second)
			continue
		}
		if lost {
			// Listening again: notifications sent meanwhile are lost, so every cache reads again.
			s.flushAll()
			log("change feed: listening again; caches flushed")
		}
		_ = s.syncVersions(ctx, seen, true)
		pause = time.Second
		s.listen(ctx, conn, seen, poll)
		conn.Close(context.Background())
		lost = true
		if ctx.Err() == nil {
			log("change feed: LISTEN connection lost, reconnecting")
		}
	}
}

// listen waits for notifications on conn, reading the versions at each and at least every
// poll, until the connection fails or ctx ends.
func (s *Store) listen(ctx context.Context, conn *pgx.Conn, seen map[Topic]int64, poll time.Duration) {
	s.feed.Store(&FeedStatus{Listening: true, Polled: time.Now()})
	for ctx.Err() == nil {
		wctx, cancel := context.WithTimeout(ctx, poll)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil || err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return // ended, or the connection failed
		}
		if err := s.syncVersions(ctx, seen, true); err != nil {
			if conn.Ping(ctx) != nil {
				return
			}
			continue
		}
		s.feed.Store(&FeedStatus{Listening: true, Polled: time.Now()})
	}
}

// poll reads the versions every poll for a while (pause), when LISTEN is unavailable.
func (s *Store) poll(ctx context.Context, seen map[Topic]int64, poll, pause time.Duration) {
	end := time.Now().Add(pause * 10)
	for ctx.Err() == nil && time.Now().Before(end) {
		if s.syncVersions(ctx, seen, true) == nil {
			s.feed.Store(&FeedStatus{Polled: time.Now()})
		}
		select {
		case <-ctx.Done():
		case <-time.After(poll):
		}
	}
}

// syncVersions reads every topic's version and, when notify, announces those that moved
// since seen.
func (s *Store) syncVersions(ctx context.Context, seen map[Topic]int64, notify bool) error {
	rows, err := s.read.QueryContext(ctx, `SELECT topic, version FROM change_versions`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t, v int64
		if err := rows.Scan(&t, &v); err != nil {
			return err
		}
		if t < 0 || t >= int64(topicCount) {
			continue
		}
		if seen[Topic(t)] != v {
			seen[Topic(t)] = v
			if notify {
				s.changes.Notify(Topic(t))
			}
		}
	}
	return rows.Err()
}

// flushAll announces every topic: every cache reads again.
func (s *Store) flushAll() {
	for t := Topic(0); t < topicCount; t++ {
		s.changes.Notify(t)
	}
}
