// Command oidcload seeds a host-example data folder for a token-endpoint load run and runs it.
//
//	oidcload seed -data DIR -alg RS256 -codes 20000 -families 5000 > seed.json
//	oidcload seed -data DIR -database postgres://… -alg ES256 -codes 0 > seed.json
//	oidcload run -token-url http://127.0.0.1:8080/oauth/token -seed seed.json -grant refresh_token -rate 480 -duration 10s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/plexlogin/plexlogin/host-example/oidcload"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

const (
	clientID     = "load-client"
	clientSecret = "load-client-secret-0123456789"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: oidcload seed|run [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "oidcload:", err)
		os.Exit(1)
	}
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dir := fs.String("data", "", "host-example data folder (the host must be stopped)")
	alg := fs.String("alg", openid.RS256, "signing algorithm")
	codes := fs.Int("codes", 10000, "codes to prepare")
	families := fs.Int("families", 2000, "refresh token families to prepare")
	database := fs.String("database", "", "postgres://… of an empty database to seed (the host then runs with it and -data) instead of SQLite in -data")
	_ = fs.Parse(args)
	ctx := context.Background()
	st, err := store.OpenWith(ctx, store.Options{Database: *database, Dir: *dir})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := openid.EnsureKey(ctx, st, *alg); err != nil {
		return err
	}
	src, err := st.CreateSource(ctx, "plex", "load", "Load")
	if err != nil {
		return err
	}
	if err := st.SetEnabled(ctx, src.ID, true); err != nil {
		return err
	}
	done, err := st.FinishLogin(ctx, store.User{SourceID: src.ID, Subject: "1", Username: "load", Email: "load@example.com",
		Groups: []string{"plex-friend"}}, store.Event{Kind: "login_allowed"}, "", time.Hour)
	if err != nil {
		return err
	}
	if err := st.PutOIDCClient(ctx, store.OIDCClient{ID: clientID, Name: "Load", SecretSHA256: openid.HashSecret(clientSecret),
		RedirectURIs: []string{"http://127.0.0.1:9/callback"}, GrantTypes: []string{openid.GrantCode, openid.GrantRefresh}, Origin: "ui"}); err != nil {
		return err
	}
	s, err := openid.SeedLoad(ctx, st, clientID, done.UserID, *codes, *families, 30*time.Minute)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(s)
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	tokenURL := fs.String("token-url", "http://127.0.0.1:8080/oauth/token", "token endpoint")
	seedFile := fs.String("seed", "seed.json", "output of oidcload seed")
	grant := fs.String("grant", "refresh_token", "refresh_token or authorization_code")
	rate := fs.Int("rate", 480, "requests per second")
	duration := fs.Duration("duration", 10*time.Second, "how long to send")
	_ = fs.Parse(args)
	b, err := os.ReadFile(*seedFile)
	if err != nil {
		return err
	}
	var s openid.Seed
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	o := oidcload.Options{TokenURL: *tokenURL, ClientID: clientID, ClientSecret: clientSecret, Grant: *grant, Rate: *rate, Duration: *duration}
	if *grant == "refresh_token" {
		o.RefreshTokens = s.RefreshTokens
	} else {
		o.Codes = s.Codes
	}
	r, err := oidcload.Run(context.Background(), o)
	if err != nil {
		return err
	}
	fmt.Printf("%s %d/s for %v: %s\n", *grant, *rate, *duration, r)
	return nil
}
