package replicatest

import (
	"net/http"
	"testing"
	"time"
)

// logoutFeedBound is how soon after a log-out on one replica the others must refuse its
// forward-auth session: a quarter of -forward-auth-cache, so that only the replicas' shared
// change feed (LISTEN/NOTIFY), not the cache bound running out, can meet it.
const logoutFeedBound = forwardCache / 4

// testLogoutEndsForwardAuthEverywhere: a person signed in to the protected app; every
// replica has the forward-auth session in its cache; a log-out on r1; the next forward-auth
// requests on r2 and r3 are refused (polled up to logoutFeedBound, and the time reported).
func testLogoutEndsForwardAuthEverywhere(t *testing.T, c *cluster) {
	b := c.viaNginx(t)
	c.plexLogin(b, "otherhome")
	fwd := c.forwardCookie(t, b)
	for _, r := range c.replicas {
		if s, err := c.askForward(r, fwd.Value, "/before"); err != nil || s != http.StatusOK {
			t.Fatalf("forward-auth at %s before the log-out: %d %v", r.name, s, err)
		}
	}

	r1 := c.replicas[0]
	at1 := b.Via(r1.addr)
	profile := at1.Get(c.auth + "/profile")
	if profile.CSRF() == "" {
		t.Fatalf("no log-out form on the profile at r1: %d %.500s", profile.Status, profile.Body)
	}
	at1.Header.Set("Cookie", "hx_forward="+fwd.Value)
	out := at1.Submit(c.auth+"/logout", nil)
	loggedOut := time.Now()
	if out.Status != http.StatusSeeOther {
		t.Fatalf("log-out at r1: %d %.500s", out.Status, out.Body)
	}
	if s, _ := c.askForward(r1, fwd.Value, "/after"); s != http.StatusUnauthorized {
		t.Errorf("forward-auth at r1 right after its own log-out: %d, want 401", s)
	}
	// r2 and r3 in turn until both refused it.
	type watch struct {
		accepted, first int
		refusedAfter    time.Duration
	}
	watches := map[*replica]*watch{}
	for _, r := range c.replicas[1:] {
		watches[r] = &watch{}
	}
	for pending := len(watches); pending > 0; {
		for _, r := range c.replicas[1:] {
			w := watches[r]
			if w.refusedAfter != 0 {
				continue
			}
			s, err := c.askForward(r, fwd.Value, "/after")
			if err != nil {
				t.Fatalf("forward-auth at %s: %v", r.name, err)
			}
			if w.first == 0 {
				w.first = s
			}
			switch s {
			case http.StatusUnauthorized:
				w.refusedAfter = time.Since(loggedOut)
				pending--
				t.Logf("%s refused the session %v after the log-out at r1 (first answer after it %d; %d answers allowed it)",
					r.name, w.refusedAfter.Round(time.Millisecond), w.first, w.accepted)
			case http.StatusOK:
				w.accepted++
			default:
				t.Fatalf("forward-auth at %s after the log-out: %d", r.name, s)
			}
		}
		if pending > 0 && time.Since(loggedOut) > logoutFeedBound {
			for _, r := range c.replicas[1:] {
				if w := watches[r]; w.refusedAfter == 0 {
					t.Errorf("%s still allowed the session logged out at r1 %v later (%d answers; -forward-auth-cache %v): "+
						"the log-out did not reach its cache", r.name, logoutFeedBound, w.accepted, forwardCache)
				}
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Through nginx with the old cookie (the browser's was cleared), whichever replica
	// answers: back to the sign-in.
	p := do(t, client("127.0.0.1:"+c.port), "GET", c.app+"/after", nil, http.Header{"Cookie": {"hx_forward=" + fwd.Value}})
	t.Logf("the app through nginx after the log-out: %d %s", p.status, p.location)
	if !t.Failed() && p.status != http.StatusFound {
		t.Errorf("the app through nginx after the log-out: %d, want 302 to the sign-in", p.status)
	}
}
