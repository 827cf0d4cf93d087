package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite's checkpoints run here, off the request path: every connection opens with
// wal_autocheckpoint(0), so no committing request copies the WAL into the database file (and
// waits for its fsync), and one goroutine on a connection of its own does it instead:
//   - PASSIVE every checkpointConfig.every while writes come in, and sooner when the WAL file
//     grew by checkpointConfig.grow: it copies what it can without waiting for anyone;
//   - TRUNCATE once the database is idle (no commit for a whole period): the WAL file goes
//     back to zero bytes;
//   - RESTART when the WAL file passed checkpointConfig.bound (long readers held the
//     checkpoints back) and the last PASSIVE copied every frame: the next commit starts the WAL
//     from its beginning again, and journal_size_limit (the bound) cuts the file back.
// RESTART and TRUNCATE take the write lock while they wait for readers, so they wait at most
// the checkpointer's own busy timeout (checkpointBusy) and are tried again later.

// checkpointConfig is how the checkpointer paces itself.
type checkpointConfig struct {
	// every is how often it checkpoints (PASSIVE) while there are commits, and how long
	// without a commit counts as idle (TRUNCATE). Zero: only when step is called (tests).
	every time.Duration
	// poll is how often it looks at the WAL file's size.
	poll time.Duration
	// grow is how much the WAL file may grow past its size at the last checkpoint before a
	// PASSIVE runs early.
	grow int64
	// bound is the WAL file size past which the checkpointer restarts the log.
	bound int64
}

// defaultCheckpoints is the production pace: SQLite's own auto-checkpoint would run at 1,000
// pages (4 MiB); the bound leaves room for a backup or a long admin page reading meanwhile.
var defaultCheckpoints = checkpointConfig{every: time.Second, poll: 100 * time.Millisecond, grow: 4 << 20, bound: 64 << 20}

// checkpointBusy is how long (ms) a RESTART or TRUNCATE waits for readers (holding the write
// lock meanwhile) before it gives up until the next try.
const checkpointBusy = 100

// checkpointer runs the WAL checkpoints of one SQLite database on a connection of its own.
type checkpointer struct {
	cfg  checkpointConfig
	wal  string  // the WAL file's path
	db   *sql.DB // the checkpointer's own pool of one connection
	conn *sql.Conn
	// mu serializes step (the goroutine's and a test's).
	mu sync.Mutex
	// version is the last PRAGMA data_version seen: it changes when another connection commits.
	version int64
	// truncated is set once the WAL was truncated since the last commit.
	truncated bool
	// base is the WAL file's size at the last checkpoint (grow counts from it).
	base int64
	// counts of each mode that ran (busy or not), and the last error, for tests.
	passive, restart, truncate atomic.Int64
	lastErr                    atomic.Pointer[error]
	stop, done                 chan struct{}
	stopOnce                   sync.Once
}

// newCheckpointer opens the checkpointer's connection with dsn (the store's, plus a short
// busy timeout of its own) for the database whose WAL file is wal, and starts it when cfg has a pace.
func newCheckpointer(dsn, wal string, cfg checkpointConfig) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn+fmt.Sprintf("&_pragma=busy_timeout(%d)", checkpointBusy))
	if err != nil {
		return nil, fmt.Errorf("open the checkpointer's connection: %w", err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open the checkpointer's connection: %w", err)
	}
	c := &checkpointer{cfg: cfg, wal: wal, db: db, conn: conn, stop: make(chan struct{}), done: make(chan struct{})}
	if c.version, err = c.dataVersion(); err != nil {
		c.close()
		return nil, err
	}
	if cfg.every <= 0 {
		close(c.done)
		return c, nil
	}
	go c.run()
	return c, nil
}

// run checkpoints at cfg's pace until close.
func (c *checkpointer) run() {
	defer close(c.done)
	every := time.NewTicker(c.cfg.every)
	defer every.Stop()
	poll := time.NewTicker(c.cfg.poll)
	defer poll.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-every.C:
			c.step()
		case <-poll.C:
			c.grew()
		}
	}
}

// close stops the checkpointer, waits for a checkpoint under way, and closes its connection.
func (c *checkpointer) close() {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
	c.conn.Close()
	c.db.Close()
}

// walSize is the WAL file's size (0 when there is none).
func (c *checkpointer) walSize() int64 {
	fi, err := os.Stat(c.wal)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// grew runs a PASSIVE checkpoint early when the WAL file grew by cfg.grow since the last one.
func (c *checkpointer) grew() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.walSize() >= c.base+c.cfg.grow {
		c.passiveOrRestart()
	}
}

// step is one period's checkpoint: PASSIVE (or RESTART past the bound) when another
// connection committed since the last step, TRUNCATE once when none did.
func (c *checkpointer) step() {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := c.dataVersion()
	if err != nil {
		c.failed(err)
		return
	}
	changed := v != c.version
	c.version = v
	switch {
	case changed:
		c.truncated = false
		c.passiveOrRestart()
	case !c.truncated && c.walSize() > 0:
		r, err := c.checkpoint("TRUNCATE", &c.truncate)
		c.truncated = err == nil && r.busy == 0
		c.base = 0
	}
}

// passiveOrRestart copies what it can (PASSIVE), then, when the WAL file is past the bound
// and every frame is copied, restarts the log.
func (c *checkpointer) passiveOrRestart() {
	c.base = c.walSize()
	r, err := c.checkpoint("PASSIVE", &c.passive)
	if err == nil && c.base > c.cfg.bound && r.log == r.copied { // no reader holds back a frame: only short ones can be in the way
		_, _ = c.checkpoint("RESTART", &c.restart)
	}
}

// checkpointResult is what PRAGMA wal_checkpoint answers: whether a writer or a reader
// stopped it short, the frames in the WAL, and how many of them are in the database file.
type checkpointResult struct{ busy, log, copied int64 }

// checkpoint runs one checkpoint of mode, counted in n.
func (c *checkpointer) checkpoint(mode string, n *atomic.Int64) (checkpointResult, error) {
	var r checkpointResult
	err := c.conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&r.busy, &r.log, &r.copied)
	if err != nil {
		err = fmt.Errorf("checkpoint (%s): %w", mode, err)
		c.failed(err)
		return r, err
	}
	n.Add(1)
	return r, nil
}

// dataVersion reads PRAGMA data_version on the checkpointer's connection.
func (c *checkpointer) dataVersion() (int64, error) {
	var v int64
	if err := c.conn.QueryRowContext(context.Background(), `PRAGMA data_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the data version: %w", err)
	}
	return v, nil
}

// failed keeps err as the last error (the next step tries again).
func (c *checkpointer) failed(err error) { c.lastErr.Store(&err) }

// err is the last error, or nil.
func (c *checkpointer) err() error {
	if p := c.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}
