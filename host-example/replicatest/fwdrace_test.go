package replicatest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// forwardRaces is how many forward-auth starts race each end of access.
const forwardRaces = 30

// testForwardStartRacingEndOfAccess: a person's browser asks /forward-auth/start at r3 while
// the admin at r2 signs them out everywhere, or disables them (and turns them on again).
// Whichever wins, no forward-auth session of that start lives afterwards (review C: the
// start read the host session, then wrote the forward-auth session in a transaction of its
// own, so an end committing between the two missed it and it lived 12 hours).
func testForwardStartRacingEndOfAccess(t *testing.T, c *cluster) {
	ctx := context.Background()
	r2, r3 := c.replicas[1], c.replicas[2]
	start := c.auth + forwardauth.StartPath + "?" + url.Values{"rd": {c.app + "/x"}}.Encode()
	for k, end := range endsOfAccess(c.adminPoster(t, r2)) {
		minted, survived := 0, 0
		for i := range forwardRaces {
			name := fmt.Sprintf("fwdrace%d-%d", k, i)
			done, err := c.st.FinishLogin(ctx, store.User{SourceID: c.source.ID, Subject: name, Username: name, Name: name,
				Groups: []string{"plex-friend"}}, store.Event{Kind: store.EventLoginAllowed}, "", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			var fwd string
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i%10) * time.Millisecond) // spread the start over the end's few milliseconds
				req, _ := http.NewRequest("GET", start, nil)
				req.AddCookie(&http.Cookie{Name: "hx_session", Value: done.Token})
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
				resp, err := client(r3.addr).Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				for _, ck := range resp.Cookies() {
					if ck.Name == "hx_forward" && ck.Value != "" {
						fwd = ck.Value
					}
				}
			}()
			go func() {
				defer wg.Done()
				end.end(done.UserID)
			}()
			wg.Wait()
			if end.undo != nil {
				end.undo(done.UserID)
			}
			if fwd == "" {
				continue
			}
			minted++
			if _, _, err := c.st.ForwardSession(ctx, forwardauth.SessionID(c.st, fwd)); err == nil {
				survived++
				t.Errorf("%s, race %d: the forward-auth session of a start racing it lives afterwards", end.name, i)
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s, race %d: reading the forward-auth session: %v", end.name, i, err)
			}
		}
		t.Logf("%s: %d races, %d sessions minted, %d outlived it", end.name, forwardRaces, minted, survived)
	}
}
