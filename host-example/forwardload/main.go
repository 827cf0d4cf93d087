// Command forwardload seeds a host-example data folder for a forward-auth load run: an
// enabled source, users with forward-auth sessions, a rule for the app, and a vegeta
// targets file (one target per session, round-robin) asking the nginx endpoint about the app.
//
//	forwardload -data DIR -url http://127.0.0.1:8080 -sessions 1000 > targets.http
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
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
	sessions := flag.Int("sessions", 1000, "users, each with one forward-auth session")
	flag.Parse()
	if *dir == "" {
		return fmt.Errorf("-data is required")
	}
	ctx := context.Background()
	st, err := store.Open(*dir)
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
	for i := 0; i < *sessions; i++ {
		n := strconv.Itoa(i)
		done, err := st.FinishLogin(ctx, store.User{SourceID: src.ID, Subject: "load-" + n, Username: "user" + n, Name: "User " + n,
			Email: "user" + n + "@example.test", Groups: []string{"members", "friends"}}, store.Event{Kind: "login_allowed"}, "", time.Hour)
		if err != nil {
			return err
		}
		tok, _, err := forwardauth.StartSession(ctx, st, done.UserID, 24*time.Hour)
		if err != nil {
			return err
		}
		fmt.Printf("GET %s%s\nX-Original-URL: http://%s/library/%d?page=2\nX-Original-Method: GET\nX-Original-Host: %s\nCookie: hx_forward=%s\n\n",
			*base, forwardauth.NginxPath, *app, i, hostOnly(*app), tok)
	}
	return nil
}

// hostOnly is a host[:port] without its port, as nginx's $host has it.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
