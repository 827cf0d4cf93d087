package replicatest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// codeRaces is how many exchanges race each end of access.
const codeRaces = 30

// testCodeRacingEndOfAccess: a person's code, minted at one replica, is exchanged at r3 while
// the admin at r2 signs them out everywhere, or disables them (and turns them on again).
// Whichever wins, no refresh family of the exchange works afterwards at r1 (review B, LOW 1:
// tokens written after a separate claim outlived the end). The storetest check
// CodeClaimRacingEndOfAccess runs the harmful interleaving deterministically; this runs the
// real thing, a few milliseconds apart.
func testCodeRacingEndOfAccess(t *testing.T, c *cluster) {
	r1, r2, r3 := c.replicas[0], c.replicas[1], c.replicas[2]
	ends := endsOfAccess(c.adminPoster(t, r2))
	cfg := c.oauthConfig()
	for k, end := range ends {
		exchanged, survived := 0, 0
		for i := range codeRaces {
			name := fmt.Sprintf("coderace%d-%d", k, i)
			done, err := c.st.FinishLogin(context.Background(), store.User{SourceID: c.source.ID, Subject: name, Username: name, Name: name,
				Email: name + "@example.test", Groups: []string{"plex-friend"}}, store.Event{Kind: store.EventLoginAllowed}, "", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			b := c.viaNginx(t)
			b.Client.Jar.SetCookies(mustURL(t, c.auth+"/"), []*http.Cookie{{Name: "hx_session", Value: done.Token, Path: "/"}})
			code, verifier := c.codeAt(t, b, c.replicas[i%3])
			var tok *oauth2.Token
			var xerr error
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i%12) * time.Millisecond) // spread the exchange over the end's few milliseconds
				tok, xerr = cfg.Exchange(at(r3), code, oauth2.VerifierOption(verifier))
			}()
			go func() {
				defer wg.Done()
				end.end(done.UserID)
			}()
			wg.Wait()
			if end.undo != nil {
				end.undo(done.UserID)
			}
			if xerr != nil {
				if oauthError(xerr) != "invalid_grant" {
					t.Errorf("%s, race %d: the exchange failed otherwise than invalid_grant: %v", end.name, i, xerr)
				}
				continue
			}
			exchanged++
			if _, err := cfg.TokenSource(at(r1), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				survived++
				t.Errorf("%s, race %d: the family of an exchange racing it refreshes afterwards", end.name, i)
			} else if oauthError(err) != "invalid_grant" {
				t.Errorf("%s, race %d: the refresh failed otherwise than invalid_grant: %v", end.name, i, err)
			}
		}
		t.Logf("%s: %d races, %d exchanges won, %d families outlived it", end.name, codeRaces, exchanged, survived)
	}
}

// endOfAccess is one way the admin ends a person's access, and how it is undone (nil: none).
type endOfAccess struct {
	name      string
	end, undo func(uid int64)
}

// endsOfAccess are the admin's ends of access the race tests run, through post.
func endsOfAccess(post func(path string, form url.Values) hosttest.Page) []endOfAccess {
	return []endOfAccess{
		{"sign out everywhere", func(uid int64) { post(fmt.Sprintf("/admin/users/%d/signout", uid), url.Values{}) }, nil},
		{"disable", func(uid int64) { post(fmt.Sprintf("/admin/users/%d/disabled", uid), url.Values{"disabled": {"1"}}) },
			func(uid int64) { post(fmt.Sprintf("/admin/users/%d/disabled", uid), url.Values{"disabled": {"0"}}) }},
	}
}

// adminPoster signs in to the admin at r and answers a POST of its forms (with a fresh CSRF
// token), which must redirect.
func (c *cluster) adminPoster(t *testing.T, r *replica) func(path string, form url.Values) hosttest.Page {
	t.Helper()
	admin := c.browser(t, r.addr)
	admin.AdminLogin(adminPassword)
	return func(path string, form url.Values) hosttest.Page {
		t.Helper()
		csrf := admin.Get(c.auth + "/admin/users").CSRF()
		if csrf == "" {
			t.Fatal("no CSRF token on the admin's users page")
		}
		form.Set("csrf", csrf)
		p, err := admin.Try("POST", c.auth+path, form)
		if err != nil || p.Status != http.StatusSeeOther {
			t.Errorf("POST %s: %d %v %.300s", path, p.Status, err, p.Body)
		}
		return p
	}
}
