package store

import (
	"context"
	"fmt"
	"time"
)

// aloneCheck is how often the connection holding a job's lock is checked: a replica that
// lost it stops the job's context (another replica may take the lock).
const aloneCheck = 5 * time.Second

// RunAlone runs fn unless another replica of a shared database is running the job of the
// same name, and reports whether it ran. The lock is a PostgreSQL advisory lock held on a
// connection of its own; if that connection dies, fn's context ends (fn may still be
// finishing while another replica starts the job, so jobs must be idempotent). On SQLite
// (one process) fn always runs.
func (s *Store) RunAlone(ctx context.Context, name string, fn func(context.Context)) (bool, error) {
	if s.dialect != postgresDialect {
		fn(ctx)
		return true, nil
	}
	conn, err := s.conn(ctx)
	if err != nil {
		return false, fmt.Errorf("job %s: connect for its lock: %w", name, err)
	}
	defer conn.Close(context.Background())
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, "host-example/job/"+name).Scan(&got); err != nil {
		return false, fmt.Errorf("job %s: take its lock: %w", name, err)
	}
	if !got {
		return false, nil
	}
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(aloneCheck)
		defer t.Stop()
		for {
			select {
			case <-jctx.Done():
				return
			case <-t.C:
				if conn.Ping(jctx) != nil {
					cancel()
					return
				}
			}
		}
	}()
	fn(jctx)
	cancel()
	<-done
	// Closing the connection releases the lock; unlocking first keeps a pooled server tidy.
	_, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtext($1))`, "host-example/job/"+name)
	return true, nil
}
