// Command forwardload seeds a host-example data folder for a forward-auth load run: an
// enabled source, users with forward-auth sessions, a rule for the app, and a vegeta
// targets file (one target per session, round-robin) asking the nginx endpoint about the app.
// With -database the rows go to that PostgreSQL database (empty: the host's schema is made
// here) and -data holds only the key file, as the host started with the same two flags has it.
//
//	forwardload -data DIR -url http://127.0.0.1:8080 -sessions 1000 > targets.http
//	forwardload -data DIR -database postgres://… -sessions 1000 > targets.http
//
// With -users M, each of M users gets -sessions N sessions (browsers), and the targets file
// gives a hot share of the users (-hot, a fifth) a share of the requests (-hot-share, 80 %):
// every session is asked, the hot ones more often, interleaved (a stated workload, as people
// use apps, instead of every request of a run missing the cache).
//
//	forwardload -data DIR -users 2000 -sessions 5 > targets.http
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "forwardload:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("data", "", "host-example data folder (the host must be stopped)")
	base := flag.String("url", "http://127.0.0.1:8080", "the host's address as the load generator reaches it")
	app := flag.String("app", "app.example.test", "the protected app's host")
	sessions := flag.Int("sessions", 1000, "users, each with one forward-auth session; with -users, sessions per user")
	users := flag.Int("users", 0, "users (0: -sessions users with one session each)")
	hot := flag.Float64("hot", 0.2, "with -users: the share of users that are hot")
	hotShare := flag.Float64("hot-share", 0.8, "with -users: the share of requests the hot users make")
	database := flag.String("database", "", "postgres://… of an empty database to seed instead of SQLite in -data")
	flag.Parse()
	if *dir == "" {
		return fmt.Errorf("-data is required")
	}
	ctx := context.Background()
	st, err := store.OpenWith(ctx, store.Options{Database: *database, Dir: *dir})
	if err != nil {
		return err
	}
	defer st.Close()
	src, err := st.CreateSource(ctx, "plex", "load", "Load")
	if err != nil {
		return err
	}
	if err := st.SetEnabled(ctx, src.ID, true); err != nil {
		return err
	}
	rule := store.ForwardRule{Name: "Load app", Host: *app, Groups: []string{"members"}}
	if errs := forwardauth.CheckRule(&rule); len(errs) > 0 {
		return fmt.Errorf("rule: %v", errs)
	}
	if _, err := st.PutForwardRule(ctx, rule); err != nil {
		return err
	}
	perUser, n := 1, *sessions
	if *users > 0 {
		perUser, n = *sessions, *users
	}
	if perUser < 1 || n < 1 || *hot <= 0 || *hot > 1 || *hotShare <= 0 || *hotShare >= 1 {
		return fmt.Errorf("-users, -sessions must be at least 1, -hot in (0,1], -hot-share in (0,1)")
	}
	tokens, err := seedSessions(ctx, st, src.ID, n, perUser)
	if err != nil {
		return err
	}
	order := make([]int, len(tokens))
	for i := range order {
		order[i] = i
	}
	if *users > 0 {
		order = skewed(n, perUser, *hot, *hotShare)
	}
	for i, k := range order {
		tok := tokens[k]
		fmt.Printf("GET %s%s\nX-Original-URL: http://%s/library/%d?page=2\nX-Original-Method: GET\nX-Original-Host: %s\nCookie: hx_forward=%s\n\n",
			*base, forwardauth.NginxPath, *app, i, hostOnly(*app), tok)
	}
	return nil
}

// seeders is how many logins the seed stores at once (a PostgreSQL commit waits for the disk).
const seeders = 8

// seedTries is how often a session is seeded before the seed fails.
const seedTries = 3

// seedSessions logs n users of source in and gives each perUser forward-auth sessions (each
// on a sign-in of its own, a browser); it answers their cookie tokens in user order (user k's
// are k*perUser to k*perUser+perUser-1).
func seedSessions(ctx context.Context, st *store.Store, source string, n, perUser int) ([]string, error) {
	tokens := make([]string, n*perUser)
	var next atomic.Int64
	errs := make([]error, seeders)
	var wg sync.WaitGroup
	for w := range seeders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n*perUser; i = int(next.Add(1) - 1) {
				k := i / perUser
				tok, err := seedSession(ctx, st, source, k)
				// A fresh PostgreSQL database under eight writers at once: its first reads
				// lock whole tables, so a transaction may lose its 20 tries; seed it again.
				for try := 1; err != nil && try < seedTries; try++ {
					tok, err = seedSession(ctx, st, source, k)
				}
				if err != nil {
					errs[w] = fmt.Errorf("session %d of user %d: %w", i%perUser, k, err)
					next.Store(int64(n * perUser)) // the others stop at their next session
					return
				}
				tokens[i] = tok
			}
		}()
	}
	wg.Wait()
	return tokens, errors.Join(errs...)
}

// seedSession logs user k in and answers the cookie token of a new forward-auth session (a
// day each: a forward-auth session never outlives its sign-in).
func seedSession(ctx context.Context, st *store.Store, source string, k int) (string, error) {
	n := strconv.Itoa(k)
	done, err := st.FinishLogin(ctx, store.User{SourceID: source, Subject: "load-" + n, Username: "user" + n, Name: "User " + n,
		Email: "user" + n + "@example.test", Groups: []string{"members", "friends"}}, store.Event{Kind: "login_allowed"}, "", 24*time.Hour)
	if err != nil {
		return "", err
	}
	tok, _, err := forwardauth.StartSession(ctx, st, done.SessionID, 24*time.Hour)
	return tok, err
}

// hostOnly is a host[:port] without its port, as nginx's $host has it.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// skewed is the order the targets file asks the sessions of n users with perUser sessions
// each: every session once, and the hot users' sessions (the first hot share of the users)
// again until they make hotShare of all requests, shuffled with a fixed seed (two runs ask
// alike).
func skewed(n, perUser int, hot, hotShare float64) []int {
	hotUsers := max(1, int(float64(n)*hot))
	hotSessions := hotUsers * perUser
	cold := n*perUser - hotSessions
	order := make([]int, 0, n*perUser)
	for i := range n * perUser {
		order = append(order, i)
	}
	// cold requests are (1-hotShare) of all: all = cold/(1-hotShare); hot ones fill the rest
	total := int(float64(max(cold, 1)) / (1 - hotShare))
	for i := 0; len(order) < total; i++ {
		order = append(order, i%hotSessions)
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	return order
}
