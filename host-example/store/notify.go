package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// NotifyTarget is where the admin's notifications go: a URL, the format it takes, which
// kinds it receives and whether names and e-mails may be sent to it. Its URL and secret are
// sealed at rest (a URL may hold a token, as a Discord webhook's does); its delivery state (back-off, last outcome, dropped messages) is kept beside it.
type NotifyTarget struct {
	ID, Name, URL, Format string
	// Kinds are the kinds of notification it receives (the notify package's names).
	Kinds []string
	// Names lets names and e-mails be sent to it.
	Names bool
	// Secret signs what it is sent (nil: none); plain here, sealed at rest.
	Secret    []byte
	CreatedAt time.Time
	// Status is the last delivery's outcome ("" none yet, "ok", "failed"); LastError the
	// last failure's words and LastAt when that delivery was tried.
	Status, LastError string
	LastAt            time.Time
	// Failures are the failed deliveries in a row; RetryAt is when the next may be tried.
	Failures int
	RetryAt  time.Time
	// Dropped counts the messages dropped for it (past the queue's bound, or given up).
	Dropped int64
	// Queued is how many messages wait for it (read, not written).
	Queued int
}

// Notification is one message queued for a target.
type Notification struct {
	ID       int64
	TargetID string
	Kind     string
	// Body is the message, as its sender wrote it (JSON), before any target's format.
	Body      string
	CreatedAt time.Time
	Attempts  int
}

const notifyTargetCols = `id, name, url_enc, format, kinds, names, secret_enc, created_at, status, last_error, last_at, failures, retry_at, dropped,
	(SELECT COUNT(*) FROM notify_queue q WHERE q.target_id = notify_targets.id)`

func (s *Store) scanNotifyTarget(row interface{ Scan(...any) error }) (*NotifyTarget, error) {
	var t NotifyTarget
	var kinds string
	var sealed, sealedURL []byte
	var created, last, retry int64
	if err := row.Scan(&t.ID, &t.Name, &sealedURL, &t.Format, &kinds, &t.Names, &sealed, &created, &t.Status, &t.LastError, &last,
		&t.Failures, &retry, &t.Dropped, &t.Queued); err != nil {
		return nil, err
	}
	if kinds != "" {
		t.Kinds = strings.Split(kinds, ",")
	}
	u, err := s.seal.Open(sealedURL)
	if err != nil {
		return nil, fmt.Errorf("open the URL of notification target %s: %w", t.ID, err)
	}
	t.URL = string(u)
	if sealed != nil {
		plain, err := s.seal.Open(sealed)
		if err != nil {
			return nil, fmt.Errorf("open the secret of notification target %s: %w", t.ID, err)
		}
		t.Secret = plain
	}
	t.CreatedAt, t.LastAt, t.RetryAt = time.Unix(created, 0), unixOrZero(last), unixOrZero(retry)
	return &t, nil
}

// unixOrZero is the time of unix seconds, the zero time for 0.
func unixOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// NotifyTargets are the notification targets, oldest first.
func (s *Store) NotifyTargets(ctx context.Context) ([]NotifyTarget, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+notifyTargetCols+` FROM notify_targets ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("notification targets: %w", err)
	}
	defer rows.Close()
	var out []NotifyTarget
	for rows.Next() {
		t, err := s.scanNotifyTarget(rows)
		if err != nil {
			return nil, fmt.Errorf("notification targets: %w", err)
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// NotifyTarget is the target of id (ErrNotFound when there is none).
func (s *Store) NotifyTarget(ctx context.Context, id string) (*NotifyTarget, error) {
	t, err := s.scanNotifyTarget(s.read.QueryRowContext(ctx, `SELECT `+notifyTargetCols+` FROM notify_targets WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("notification target %s: %w", id, err)
	}
	return t, nil
}

// PutNotifyTarget creates or replaces the settings of a target (its name, URL, format,
// kinds, names and secret); its delivery state stays.
func (s *Store) PutNotifyTarget(ctx context.Context, t NotifyTarget) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO notify_targets (id, name, url_enc, format, kinds, names, secret_enc, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, url_enc = excluded.url_enc, format = excluded.format, kinds = excluded.kinds,
		names = excluded.names, secret_enc = excluded.secret_enc`,
		t.ID, t.Name, s.seal.Seal([]byte(t.URL)), t.Format, strings.Join(t.Kinds, ","), t.Names, s.seal.Seal(t.Secret), s.now().Unix())
	if err != nil {
		return fmt.Errorf("save notification target %s: %w", t.ID, err)
	}
	return nil
}

// DeleteNotifyTarget deletes a target and the messages queued for it (ErrNotFound when
// there is none).
func (s *Store) DeleteNotifyTarget(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `DELETE FROM notify_queue WHERE target_id = ?`, id); err != nil {
			return fmt.Errorf("delete the queue of notification target %s: %w", id, err)
		}
		res, err := s.txExec(ctx, tx, `DELETE FROM notify_targets WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete notification target %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// EnqueueNotification queues a message for every target that receives kind, keeping at
// most bound messages of each kind per target: the oldest of kind past it are dropped (and
// counted on the target), so a flood of one kind (refusals) never pushes another (a change
// of the admin's ways in) out of the queue. It answers how many targets it was queued for and how many messages it dropped;
// with no target for kind it writes nothing.
func (s *Store) EnqueueNotification(ctx context.Context, kind, body string, bound int) (queued, dropped int, err error) {
	ids, err := s.notifyTargetsOf(ctx, kind)
	if err != nil || len(ids) == 0 {
		return 0, 0, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		queued, dropped = 0, 0
		now := s.now().Unix()
		for _, id := range ids {
			var there int
			if err := s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM notify_targets WHERE id = ?`, id).Scan(&there); err != nil {
				return err
			}
			if there == 0 {
				continue // deleted since
			}
			if _, err := s.txExec(ctx, tx, `INSERT INTO notify_queue (target_id, kind, body, created_at) VALUES (?, ?, ?, ?)`,
				id, kind, body, now); err != nil {
				return err
			}
			res, err := s.txExec(ctx, tx, `DELETE FROM notify_queue WHERE target_id = ? AND kind = ? AND id IN
				(SELECT id FROM notify_queue WHERE target_id = ? AND kind = ? ORDER BY id DESC LIMIT -1 OFFSET ?)`, id, kind, id, kind, bound)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			if n > 0 {
				if _, err := s.txExec(ctx, tx, `UPDATE notify_targets SET dropped = dropped + ? WHERE id = ?`, n, id); err != nil {
					return err
				}
			}
			queued, dropped = queued+1, dropped+int(n)
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("queue a %s notification: %w", kind, err)
	}
	return queued, dropped, nil
}

// notifyTargetsOf are the ids of the targets that receive kind.
func (s *Store) notifyTargetsOf(ctx context.Context, kind string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM notify_targets WHERE ',' || kinds || ',' LIKE ? ESCAPE '\' ORDER BY id`,
		containsPattern(","+kind+","))
	if err != nil {
		return nil, fmt.Errorf("targets of %s notifications: %w", kind, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("targets of %s notifications: %w", kind, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ClaimNotifications takes up to limit queued messages, oldest first, of the targets whose
// back-off has passed and that no other sender holds, and holds them for lease: a sender
// that dies lets them go when it ends.
func (s *Store) ClaimNotifications(ctx context.Context, limit int, lease time.Duration) ([]Notification, error) {
	var out []Notification
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		now := s.now().Unix()
		rows, err := s.txQuery(ctx, tx, `SELECT q.id, q.target_id, q.kind, q.body, q.created_at, q.attempts FROM notify_queue q
			JOIN notify_targets t ON t.id = q.target_id WHERE t.retry_at <= ? AND q.claimed_until <= ? ORDER BY q.id LIMIT ?`, now, now, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n Notification
			var created int64
			if err := rows.Scan(&n.ID, &n.TargetID, &n.Kind, &n.Body, &created, &n.Attempts); err != nil {
				rows.Close()
				return err
			}
			n.CreatedAt = time.Unix(created, 0)
			out = append(out, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		until := s.now().Add(lease).Unix()
		for _, n := range out {
			res, err := s.txExec(ctx, tx, `UPDATE notify_queue SET claimed_until = ? WHERE id = ? AND claimed_until <= ?`, until, n.ID, now)
			if err != nil {
				return err
			}
			if c, _ := res.RowsAffected(); c != 1 {
				return fmt.Errorf("message %d was claimed by another sender", n.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	return out, nil
}

// NotificationSent deletes a delivered message and notes the target's delivery as ok.
func (s *Store) NotificationSent(ctx context.Context, n Notification) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `DELETE FROM notify_queue WHERE id = ?`, n.ID); err != nil {
			return fmt.Errorf("delete sent notification %d: %w", n.ID, err)
		}
		if _, err := s.txExec(ctx, tx, `UPDATE notify_targets SET status = 'ok', last_at = ?, failures = 0, retry_at = 0 WHERE id = ?`,
			s.now().Unix(), n.TargetID); err != nil {
			return fmt.Errorf("note notification target %s ok: %w", n.TargetID, err)
		}
		return nil
	})
}

// NotificationFailed notes a failed delivery: the target waits backoff before its next,
// the message is let go for it, or dropped (and counted) once it has been tried maxAttempts times.
func (s *Store) NotificationFailed(ctx context.Context, n Notification, why string, backoff time.Duration, maxAttempts int) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		if n.Attempts+1 >= maxAttempts {
			if _, err := s.txExec(ctx, tx, `DELETE FROM notify_queue WHERE id = ?`, n.ID); err != nil {
				return fmt.Errorf("drop notification %d: %w", n.ID, err)
			}
			why += fmt.Sprintf(" (message given up after %d attempts)", maxAttempts)
		} else if _, err := s.txExec(ctx, tx, `UPDATE notify_queue SET attempts = attempts + 1, claimed_until = 0 WHERE id = ?`, n.ID); err != nil {
			return fmt.Errorf("let notification %d go: %w", n.ID, err)
		}
		dropped := 0
		if n.Attempts+1 >= maxAttempts {
			dropped = 1
		}
		if _, err := s.txExec(ctx, tx, `UPDATE notify_targets SET status = 'failed', last_error = ?, last_at = ?, failures = failures + 1,
			retry_at = ?, dropped = dropped + ? WHERE id = ?`, why, now.Unix(), now.Add(backoff).Unix(), dropped, n.TargetID); err != nil {
			return fmt.Errorf("note notification target %s failed: %w", n.TargetID, err)
		}
		return nil
	})
}

// ReleaseNotifications lets claimed messages go unsent (their target failed before them).
func (s *Store) ReleaseNotifications(ctx context.Context, ids []int64) error {
	for _, id := range ids {
		if _, err := s.db.ExecContext(ctx, `UPDATE notify_queue SET claimed_until = 0 WHERE id = ?`, id); err != nil {
			return fmt.Errorf("release notification %d: %w", id, err)
		}
	}
	return nil
}

// ChangeMeta writes value under key and reports whether it changed what was there (one
// statement: of replicas writing the same new value, one sees the change).
func (s *Store) ChangeMeta(ctx context.Context, key, value string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE meta.value <> excluded.value`, key, value)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("write %s: %w", key, err)
	}
	return n > 0, nil
}
