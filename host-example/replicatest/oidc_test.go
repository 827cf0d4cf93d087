package replicatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"golang.org/x/oauth2"
)

// refreshRaces is how many times two replicas race to redeem one refresh token.
const refreshRaces = 5

// oauthConfig is the demo app's client; every request goes to the address of the context's
// HTTP client (a replica's, or nginx's).
func (c *cluster) oauthConfig() oauth2.Config {
	return oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURI,
		Scopes:   []string{gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess, "profile"},
		Endpoint: oauth2.Endpoint{AuthURL: c.auth + "/authorize", TokenURL: c.auth + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
}

// at is a context whose OAuth 2 requests go to replica r.
func at(r *replica) context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, client(r.addr))
}

// codeAt runs an authorization request of the signed-in browser b at replica r and answers the
// code and its PKCE verifier.
func (c *cluster) codeAt(t *testing.T, b *hosttest.Browser, r *replica) (string, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	cfg := c.oauthConfig()
	u := cfg.AuthCodeURL(random(), gooidc.Nonce(random()), oauth2.S256ChallengeOption(verifier))
	p := b.Via(r.addr).Follow(u)
	if !strings.HasPrefix(p.Redirect, redirectURI) {
		t.Fatalf("authorization at %s: %d %s %.500s", r.name, p.Status, p.Redirect, p.Body)
	}
	code := mustURL(t, p.Redirect).Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %s", p.Redirect)
	}
	return code, verifier
}

// userinfoStatus is the status of the userinfo endpoint of replica r for the access token.
func (c *cluster) userinfoStatus(t *testing.T, r *replica, access string) int {
	t.Helper()
	return do(t, client(r.addr), "GET", c.auth+"/userinfo", nil, http.Header{"Authorization": {"Bearer " + access}}).status
}

// oauthError is the OAuth error code of a failed token request.
func oauthError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// testOIDCAcrossReplicas: a code issued by r1 is redeemed at r2 and replayed at r3 (refused,
// and the grant revoked everywhere); refreshes of one refresh token racing on two replicas
// leave exactly one winner.
func testOIDCAcrossReplicas(t *testing.T, c *cluster) {
	b := c.viaNginx(t)
	c.plexLogin(b, "friend")
	r1, r2, r3 := c.replicas[0], c.replicas[1], c.replicas[2]
	cfg := c.oauthConfig()

	code, verifier := c.codeAt(t, b, r1)
	tok, err := cfg.Exchange(at(r2), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("the code of r1 redeemed at r2: %v", err)
	}
	// The ID token minted by r2 verifies against the keys nginx serves (any replica's JWKS).
	pctx := context.WithValue(context.Background(), oauth2.HTTPClient, client("127.0.0.1:"+c.port))
	provider, err := gooidc.NewProvider(pctx, c.auth)
	if err != nil {
		t.Fatalf("discovery through nginx: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if _, err := provider.Verifier(&gooidc.Config{ClientID: clientID}).Verify(pctx, raw); err != nil {
		t.Fatalf("ID token from r2, keys through nginx: %v", err)
	}
	for _, r := range c.replicas {
		if s := c.userinfoStatus(t, r, tok.AccessToken); s != http.StatusOK {
			t.Fatalf("userinfo at %s with r2's access token: %d", r.name, s)
		}
	}
	if _, err := cfg.Exchange(at(r3), code, oauth2.VerifierOption(verifier)); oauthError(err) != "invalid_grant" {
		t.Fatalf("the code replayed at r3: %v, want invalid_grant", err)
	}
	for _, r := range c.replicas {
		s := c.userinfoStatus(t, r, tok.AccessToken)
		t.Logf("userinfo at %s after the replay at r3: %d", r.name, s)
		if s != http.StatusUnauthorized && s != http.StatusForbidden {
			t.Errorf("userinfo at %s after the replay at r3: %d, want a refusal (grant revoked)", r.name, s)
		}
	}
	if _, err := cfg.TokenSource(at(r1), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); oauthError(err) != "invalid_grant" {
		t.Errorf("the replayed grant's refresh token at r1: %v, want invalid_grant", err)
	}

	// Refreshes racing on two replicas: exactly one wins.
	for round := range refreshRaces {
		code, verifier := c.codeAt(t, b, r1)
		tok, err := cfg.Exchange(at(r2), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		racers := []*replica{r2, r3}
		if round%2 == 1 {
			racers = []*replica{r3, r1}
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]error, len(racers))
		for i, r := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, results[i] = cfg.TokenSource(at(r), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, err := range results {
			switch {
			case err == nil:
				wins++
			case oauthError(err) != "invalid_grant":
				t.Errorf("round %d: the refresh at %s failed otherwise than invalid_grant: %v", round+1, racers[i].name, err)
			}
		}
		t.Logf("refresh race %d (%s vs %s): %d winner(s); errors %v", round+1, racers[0].name, racers[1].name, wins, results)
		if wins != 1 {
			t.Errorf("refresh race %d: %d winners, want exactly 1", round+1, wins)
		}
	}
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
