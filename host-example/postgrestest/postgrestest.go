// Package postgrestest starts throwaway PostgreSQL servers for tests from Debian's real
// binaries (/usr/lib/postgresql/15/bin): a cluster in a temporary folder, reachable only on
// a Unix socket, one fresh database per test. Every PostgreSQL test in the repository uses it.
package postgrestest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinEnv names the environment variable that, when set, is the folder holding initdb and
// postgres instead of Debian's /usr/lib/postgresql/15/bin.
const BinEnv = "POSTGRES_BIN"

// startTimeout bounds how long a server may take to accept connections after its start.
const startTimeout = 60 * time.Second

// Server is one running (or stopped) PostgreSQL cluster of a test.
type Server struct {
	bin   string // folder with initdb and postgres
	base  string // temporary folder holding data, sock and the log; removed at the end
	data  string
	sock  string
	log   string
	cred  *syscall.Credential // the postgres user's when running as root, else nil
	names atomic.Int64

	mu   sync.Mutex
	proc *exec.Cmd     // the running postmaster, nil when stopped
	done chan struct{} // closed when proc has exited
	err  error         // proc's exit status, valid once done is closed
}

// Start initialises a cluster in a fresh temporary folder and starts it; it is stopped and
// its folder removed when the test ends. A missing PostgreSQL fails the test in CI (CI set)
// and skips it elsewhere.
func Start(t testing.TB) *Server {
	t.Helper()
	s := prepare(t)
	t.Cleanup(s.close)
	if err := s.init(); err != nil {
		t.Fatal(err)
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// prepare finds the binaries and the user to run them as, or skips (fails in CI) the test.
func prepare(t testing.TB) *Server {
	t.Helper()
	s, err := locate()
	if err != nil {
		missing(t, err)
	}
	return s
}

// locate finds the binaries and lays out a new server's folders.
func locate() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	return newServer(bin)
}

// missing fails the test in CI (CI set), which installs PostgreSQL, and skips it elsewhere.
func missing(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL for tests: %v (.ci/run installs Debian's postgresql)", err)
	}
	t.Skipf("PostgreSQL for tests: %v", err)
}

// binDir is the folder holding initdb and postgres.
func binDir() (string, error) {
	dir := os.Getenv(BinEnv)
	if dir == "" {
		dir = "/usr/lib/postgresql/15/bin"
	}
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("no %s in %s (%s names another folder)", name, dir, BinEnv)
		}
	}
	return dir, nil
}

// newServer lays out the server's folders: base (0711, so the postgres user can pass
// through it when we are root) holding data and sock owned by the user running the server.
func newServer(bin string) (*Server, error) {
	s := &Server{bin: bin}
	parent := os.TempDir()
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, and initdb refuses root: look up the postgres user: %w", err)
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("postgres user's ids: %w", err)
		}
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
		parent = "/tmp" // world-traversable, unlike a TMPDIR under /root
	}
	base, err := os.MkdirTemp(parent, "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("temporary folder for PostgreSQL: %w", err)
	}
	s.base, s.data, s.sock, s.log = base, filepath.Join(base, "data"), filepath.Join(base, "sock"), filepath.Join(base, "postgres.log")
	err = os.Chmod(base, 0o711)
	for _, dir := range []string{s.data, s.sock} {
		if err == nil {
			err = os.Mkdir(dir, 0o700)
		}
		if err == nil && s.cred != nil {
			err = os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid))
		}
	}
	if err == nil {
		err = os.Chmod(s.sock, 0o755) // root (the test) must reach the socket
	}
	if err != nil {
		os.RemoveAll(base)
		return nil, fmt.Errorf("PostgreSQL folders in %s: %w", base, err)
	}
	return s, nil
}

// command is one of the PostgreSQL programs, run as the user owning the cluster.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.base
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd
}

// init runs initdb on the empty data folder.
func (s *Server) init() error {
	out, err := s.command("initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", s.data, err, out)
	}
	return nil
}

// start runs the postmaster on the data and socket folders and waits until it accepts
// connections. The postmaster gets SIGQUIT (immediate shutdown) if the test binary dies
// without stopping it.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("PostgreSQL already running")
	}
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("PostgreSQL log: %w", err)
	}
	defer logf.Close()
	cmd := s.command("postgres", "-D", s.data, "-k", s.sock,
		"-c", "listen_addresses=", // Unix socket only: the package's own cluster may hold 5432
		"-c", "unix_socket_permissions=0777",
		"-c", "max_connections=200", // several replicas, each with a pool
		// Nothing reaches the disk (fsync=off), but each commit is still written to the
		// kernel at once (synchronous_commit stays on, nearly free without fsync): with it
		// off, Stop's immediate shutdown loses the last ~600ms of commits, and a fault test
		// would see rows vanish that no real server loses.
		"-c", "fsync=off", "-c", "full_page_writes=off")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	done := make(chan struct{})
	s.proc, s.done = cmd, done
	go func() { s.err = cmd.Wait(); close(done) }()
	if err := s.waitReady(done); err != nil {
		s.stopLocked()
		return err
	}
	return nil
}

// waitReady polls a connection until the server answers, it exits, or startTimeout passes.
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("postgres exited at start (%v):\n%s", s.err, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not accepting connections after %v: %v\n%s", startTimeout, err, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logTail is the end of the server's log, for error messages.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop shuts the server down at once (immediate mode, as `pg_ctl stop -m immediate`: no
// checkpoint, crash recovery at the next start); the data folder stays for Start.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(); err != nil {
		t.Fatal(err)
	}
}

// Start starts a stopped server again on the same data folder and socket.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// Restart stops the server at once and starts it again on the same data folder and
// socket, as a database restarted under its clients' feet.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	s.Start(t)
}

// stopLocked sends the postmaster SIGQUIT and waits for it; a stopped server is left as is.
func (s *Server) stopLocked() error {
	if s.proc == nil {
		return nil
	}
	proc, done := s.proc, s.done
	s.proc, s.done = nil, nil
	if err := proc.Process.Signal(syscall.SIGQUIT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop postgres: %w", err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		proc.Process.Kill()
		<-done
		return fmt.Errorf("postgres ignored SIGQUIT for 30s; killed:\n%s", s.logTail())
	}
}

// close stops the server and removes its folder.
func (s *Server) close() {
	s.mu.Lock()
	s.stopLocked()
	s.mu.Unlock()
	os.RemoveAll(s.base)
}

// running reports whether the postmaster is up.
func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil
}

// SocketDir is the folder holding the server's Unix socket (libpq's host).
func (s *Server) SocketDir() string { return s.sock }

// DSN is the URL of database db as user postgres over the Unix socket, as pgx and
// host-example's -database take it: postgres://postgres@/db?host=<socket folder>.
func (s *Server) DSN(db string) string {
	host := strings.ReplaceAll(url.QueryEscape(s.sock), "%2F", "/")
	return "postgres://postgres@/" + url.PathEscape(db) + "?host=" + host
}

// unsafeName matches what a database name made from a test name may not contain.
var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// NewDatabase creates an empty database with a fresh name and returns its DSN; the
// database is dropped (closing its connections) when the test ends.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	label := unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "_")
	name := fmt.Sprintf("t%d_%.40s", s.names.Add(1), label)
	if err := s.admin("CREATE DATABASE " + pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if !s.running() { // stopped by the test; its folder goes with the server
			return
		}
		if err := s.admin("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return s.DSN(name)
}

// admin runs one statement in the postgres database.
func (s *Server) admin(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.DSN("postgres"), err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// shared is the test binary's one server of Shared, stopped by Main.
var shared struct {
	once    sync.Once
	inMain  atomic.Bool
	srv     *Server
	err     error // the server failed to start
	missing error // PostgreSQL is not installed here
}

// Shared is one server for the whole test binary, for packages with many tests; those
// packages must run their tests through Main, which stops it. Give each test its own
// database with NewDatabase; tests that stop or restart a server use their own (Start).
func Shared(t testing.TB) *Server {
	t.Helper()
	if !shared.inMain.Load() {
		t.Fatal("postgrestest.Shared needs TestMain to call postgrestest.Main(m), which stops the server")
	}
	shared.once.Do(func() {
		s, err := locate()
		if err != nil {
			shared.missing = err
			return
		}
		if err = s.init(); err == nil {
			err = s.start()
		}
		if err != nil {
			s.close()
			shared.err = err
			return
		}
		shared.srv = s
	})
	if shared.missing != nil {
		missing(t, shared.missing)
	}
	if shared.err != nil {
		t.Fatalf("PostgreSQL for tests: %v", shared.err)
	}
	return shared.srv
}

// Main runs the tests of a package using Shared, then stops the shared server and removes
// its folder: call it from TestMain as postgrestest.Main(m).
func Main(m *testing.M) {
	shared.inMain.Store(true)
	code := m.Run()
	if shared.srv != nil {
		shared.srv.close()
	}
	os.Exit(code)
}
