package storetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/plexlogin/plexlogin/host-example/postgrestest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// benchServerEnv names the variable that, when set, is the postgres:// URL of a server's
// maintenance database on which the benchmarks create (and drop) their databases: a server
// with the durability under test. Unset, they use the test binary's server, which runs with
// fsync off (fine for correctness, not for the cost of a commit).
const benchServerEnv = "HOST_BENCH_POSTGRES"

// benchEngines runs bench once per engine, as sub-benchmarks db=sqlite and db=postgres
// (benchstat -col /db sets them side by side), each on a fresh database, and reports the
// SQL statements run per operation (a PostgreSQL retry shows as more).
// bench calls measure after its set-up: it resets the timer and the statement count.
func benchEngines(b *testing.B, bench func(b *testing.B, st *store.Store, measure func())) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run("db="+engine, func(b *testing.B) {
			st := benchStore(b, engine)
			var stmts atomic.Int64
			st.Observe(store.Observer{Query: func(string, string, time.Duration) { stmts.Add(1) }})
			bench(b, st, func() { stmts.Store(0); b.ResetTimer() })
			b.StopTimer()
			b.ReportMetric(float64(stmts.Load())/float64(b.N), "stmts/op")
		})
	}
}

// benchStore opens a fresh database of engine for b.
func benchStore(b *testing.B, engine string) *store.Store {
	b.Helper()
	opts := store.Options{Dir: b.TempDir()}
	if engine == "postgres" {
		opts.Database = benchDatabase(b)
	}
	st, err := store.OpenWith(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// benchDatabases numbers the databases made on the server of benchServerEnv.
var benchDatabases atomic.Int64

// benchDatabase is the URL of a new empty PostgreSQL database, dropped when b ends.
func benchDatabase(b *testing.B) string {
	b.Helper()
	server := os.Getenv(benchServerEnv)
	if server == "" {
		return postgrestest.Shared(b).NewDatabase(b)
	}
	u, err := url.Parse(server)
	if err != nil || !store.IsPostgres(server) {
		b.Fatalf("%s: not a postgres:// URL: %v", benchServerEnv, err)
	}
	name := fmt.Sprintf("hxbench_%d_%d", os.Getpid(), benchDatabases.Add(1))
	admin := func(sql string) {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			b.Fatalf("%s: %v", benchServerEnv, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	admin("CREATE DATABASE " + pgx.Identifier{name}.Sanitize())
	b.Cleanup(func() { admin("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)") })
	u.Path = "/" + name
	return u.String()
}

// benchSource is an enabled source of st.
func benchSource(b testing.TB, st *store.Store) string {
	b.Helper()
	ctx := context.Background()
	src, err := st.CreateSource(ctx, "plex", "bench", "Bench")
	if err != nil {
		b.Fatal(err)
	}
	if err := st.SetEnabled(ctx, src.ID, true); err != nil {
		b.Fatal(err)
	}
	return src.ID
}

// benchUsers is how many people the benchmarks' logins and sessions cycle through.
const benchUsers = 200

// login is user k's login of source, as the callback stores it.
func login(st *store.Store, source string, k int) (*store.LoginDone, error) {
	n := strconv.Itoa(k)
	return st.FinishLogin(context.Background(), store.User{SourceID: source, Subject: "bench-" + n, Username: "user" + n,
		Name: "User " + n, Email: "user" + n + "@example.test", Groups: []string{"members", "friends"}},
		store.Event{Kind: store.EventLoginAllowed, Subject: "bench-" + n}, "", time.Hour)
}

// benchLogin is login, stopping the benchmark on an error.
func benchLogin(b testing.TB, st *store.Store, source string, k int) *store.LoginDone {
	b.Helper()
	done, err := login(st, source, k)
	if err != nil {
		b.Fatal(err)
	}
	return done
}

// BenchmarkFinishLogin is a login's write (FinishLogin: the user upserted, the username
// kept, a new session, the event, in one transaction) for people who logged in before.
func BenchmarkFinishLogin(b *testing.B) {
	benchEngines(b, func(b *testing.B, st *store.Store, measure func()) {
		src := benchSource(b, st)
		for k := range benchUsers {
			benchLogin(b, st, src, k)
		}
		measure()
		for i := range b.N {
			benchLogin(b, st, src, i%benchUsers)
		}
	})
}

// BenchmarkFinishLoginParallel is the same, 8 goroutines per core at once.
func BenchmarkFinishLoginParallel(b *testing.B) {
	benchEngines(b, func(b *testing.B, st *store.Store, measure func()) {
		src := benchSource(b, st)
		for k := range benchUsers {
			benchLogin(b, st, src, k)
		}
		var next atomic.Int64
		b.SetParallelism(8)
		measure()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := login(st, src, int(next.Add(1))%benchUsers); err != nil {
					b.Error(err) // not Fatal: this is not the benchmark's goroutine
					return
				}
			}
		})
	})
}

// refreshChain is one refresh-token family being rotated, as a client refreshing does.
type refreshChain struct {
	st  *store.Store
	cur store.RefreshToken
}

// newRefreshChain starts family name of user uid.
func newRefreshChain(st *store.Store, uid int64, name string) (*refreshChain, error) {
	rt := store.RefreshToken{Hash: store.RandomID(32), ID: store.RandomID(16), FamilyID: name, GrantID: "grant-" + name, ClientID: "bench-client",
		UserID: uid, Scopes: []string{"openid", "profile", "offline_access"}, AMR: []string{"fed"}, AuthTime: time.Now(),
		Expires: time.Now().Add(24 * time.Hour)}
	if err := st.PutRefreshToken(context.Background(), rt); err != nil {
		return nil, err
	}
	return &refreshChain{st: st, cur: rt}, nil
}

// grant is the store's part of one refresh grant at the token endpoint: read the presented
// token with its user (and its source's state; the grant is judged on the user and the
// id_token's claims come from it), rotate (compare and swap, the next refresh token and the
// access token in one transaction). The client is read from the provider's in-memory cache,
// not the store.
func (c *refreshChain) grant() error {
	ctx := context.Background()
	rt, u, err := c.st.RefreshTokenAndUser(ctx, c.cur.Hash)
	if err != nil {
		return fmt.Errorf("refresh token %s: %w", c.cur.Hash, err)
	}
	if rt.Rotated || rt.Revoked {
		return fmt.Errorf("refresh token %s: rotated %v, revoked %v", c.cur.Hash, rt.Rotated, rt.Revoked)
	}
	next := *rt
	// random, spread over the indexes as real hashes and ids are; the access token in the same row
	next.Hash, next.ID, next.AccessExpires = store.RandomID(32), store.RandomID(16), time.Now().Add(time.Hour)
	if err := c.st.RotateRefreshToken(ctx, rt.Hash, next); err != nil {
		return fmt.Errorf("rotate %s: %w", rt.Hash, err)
	}
	if u.PublicID == "" {
		return fmt.Errorf("user %d has no public id", u.ID)
	}
	c.cur = next
	return nil
}

// BenchmarkRefreshGrant is one refresh grant's store work (refreshChain.grant), one client.
func BenchmarkRefreshGrant(b *testing.B) {
	benchEngines(b, func(b *testing.B, st *store.Store, measure func()) {
		uid := benchLogin(b, st, benchSource(b, st), 0).UserID
		c, err := newRefreshChain(st, uid, "f0")
		if err != nil {
			b.Fatal(err)
		}
		measure()
		for range b.N {
			if err := c.grant(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRefreshGrantParallel is the same with 8 goroutines per core, each rotating a
// family of its own (different clients refreshing at once).
func BenchmarkRefreshGrantParallel(b *testing.B) {
	benchEngines(b, func(b *testing.B, st *store.Store, measure func()) {
		uid := benchLogin(b, st, benchSource(b, st), 0).UserID
		var families atomic.Int64
		b.SetParallelism(8)
		measure()
		b.RunParallel(func(pb *testing.PB) {
			c, err := newRefreshChain(st, uid, "f"+strconv.FormatInt(families.Add(1), 10))
			for err == nil && pb.Next() {
				err = c.grant()
			}
			if err != nil {
				b.Error(err) // not Fatal: this is not the benchmark's goroutine
			}
		})
	})
}

// benchForwardSessions gives benchUsers people a forward-auth session each and answers the ids.
func benchForwardSessions(b *testing.B, st *store.Store) []string {
	src := benchSource(b, st)
	ids := make([]string, benchUsers)
	for k := range ids {
		ids[k] = store.RandomID(32)
		if _, _, err := st.CreateForwardSession(context.Background(), ids[k], benchLogin(b, st, src, k).SessionID, 24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// BenchmarkForwardSession is forward-auth's read on a session-cache miss (ForwardSession:
// the session joined with its user and source, then the user).
func BenchmarkForwardSession(b *testing.B) {
	benchEngines(b, func(b *testing.B, st *store.Store, measure func()) {
		ids := benchForwardSessions(b, st)
		measure()
		for i := range b.N {
			if _, _, err := st.ForwardSession(context.Background(), ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkForwardSessionParallel is the same, 8 goroutines per core at once.
func BenchmarkForwardSessionParallel(b *testing.B) {
	benchEngines(b, func(b *testing.B, st *store.Store, measure func()) {
		ids := benchForwardSessions(b, st)
		var next atomic.Int64
		b.SetParallelism(8)
		measure()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := st.ForwardSession(context.Background(), ids[int(next.Add(1))%len(ids)]); err != nil {
					b.Error(err) // not Fatal: this is not the benchmark's goroutine
					return
				}
			}
		})
	})
}
