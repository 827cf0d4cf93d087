package systemtest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
)

// Review 34 (security review of issue 34's commits, 1ed6fde..): the Remote-* values are
// slices made once per cached session and shared by every answer. Through a real net/http
// server, people asking at once each get their own values, an anonymous allowed answer
// carries empty ones whatever the client sent, and (under -race) nothing writes into them.
func TestReview34ConcurrentAnswersKeepTheirOwnValues(t *testing.T) {
	f := newFixture(t)
	friendTok := f.forwardToken(f.friend)
	srv := httptest.NewServer(f.srv)
	t.Cleanup(srv.Close)
	type asker struct {
		token, path, user, groups string
	}
	askers := []asker{
		{f.ownerTok, "/library", "olivia", "plex-owner"},
		{friendTok, "/library", "frank", "plex-friend"},
		{"", "/api/hooks", "", ""},
		{friendTok, "/api/hooks", "", ""}, // a bypass path: anonymous, even with a cookie
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				a := askers[(g+i)%len(askers)]
				req, _ := http.NewRequest("GET", srv.URL+forwardauth.NginxPath, nil)
				req.Host = "auth.example.test"
				req.Header.Set("X-Original-URL", "http://app.example.test"+a.path)
				req.Header.Set("X-Original-Method", "GET")
				req.Header.Set("X-Original-Host", "app.example.test")
				req.Header.Set("Remote-User", "admin") // a client's own, never passed on
				req.Header.Set("Remote-Groups", "plex-owner")
				if a.token != "" {
					req.AddCookie(&http.Cookie{Name: "hx_forward", Value: a.token})
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				res.Body.Close()
				u, gr := res.Header.Values("Remote-User"), res.Header.Values("Remote-Groups")
				if res.StatusCode != http.StatusOK || len(u) != 1 || u[0] != a.user || len(gr) != 1 || gr[0] != a.groups {
					errs <- fmt.Errorf("HOLE: asked as %q on %s: %d Remote-User %q Remote-Groups %q", a.user, a.path, res.StatusCode, u, gr)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
