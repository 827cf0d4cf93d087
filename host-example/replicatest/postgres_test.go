package replicatest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/openid"
)

const (
	// outage is how long PostgreSQL stays down while the replicas are probed.
	outage = 3 * time.Second
	// recoveryBound is how long the replicas may take to answer from the database again.
	recoveryBound = 30 * time.Second
)

// probe is one kind of request sent to each replica while PostgreSQL is down.
type probe struct {
	name string
	ask  func(r *replica) (page, error)
}

// testPostgresRestartUnderLoad: PostgreSQL stops (immediate shutdown) under load and starts
// again. Meanwhile every replica is probed directly with each kind of request and the
// statuses are reported (cached forward-auth answers, uncached ones, pages, token grants);
// no replica crashes, and each answers from the database again on its own once it is back.
func testPostgresRestartUnderLoad(t *testing.T, c *cluster) {
	cached := c.seedForwardSessions(t, "cached", 10)
	uncached := c.seedForwardSessions(t, "uncached", len(c.replicas))
	seed, err := openid.SeedLoad(context.Background(), c.st, clientID, c.seedUser(t, "probe"), 0, len(c.replicas), 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range c.replicas { // every replica holds the cached sessions' answers
		for _, s := range cached {
			if st, err := c.askForward(r, s.token, "/warm"); err != nil || st != http.StatusOK {
				t.Fatalf("warm %s: %d %v", r.name, st, err)
			}
		}
	}
	index := func(r *replica) int {
		for i, x := range c.replicas {
			if x == r {
				return i
			}
		}
		return 0
	}
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":"+clientSecret))}}
	tokenGrant := func(r *replica, refresh string) (page, error) {
		return try(client(r.addr), "POST", c.auth+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, basic)
	}
	get := func(r *replica, path string) (page, error) {
		return try(client(r.addr), "GET", c.auth+path, nil, nil)
	}
	forward := func(r *replica, token string) (page, error) {
		return try(client(r.addr), "GET", c.auth+forwardauth.NginxPath, nil, c.forwardHeaders(token, "/down"))
	}
	nginxApp := client("127.0.0.1:" + c.port)
	probes := []probe{
		{"forward-auth, session in the replica's cache", func(r *replica) (page, error) { return forward(r, cached[0].token) }},
		{"forward-auth, session not cached", func(r *replica) (page, error) { return forward(r, uncached[index(r)].token) }},
		{"login page", func(r *replica) (page, error) { return get(r, "/login") }},
		{"discovery", func(r *replica) (page, error) { return get(r, "/.well-known/openid-configuration") }},
		{"token endpoint, refresh grant", func(r *replica) (page, error) { return tokenGrant(r, seed.RefreshTokens[index(r)]) }},
		{"healthz", func(r *replica) (page, error) { return get(r, "/healthz") }},
		{"app through nginx, session not cached", func(*replica) (page, error) {
			return try(nginxApp, "GET", c.app+"/down", nil, http.Header{"Cookie": {"hx_forward=" + uncached[0].token}})
		}},
	}

	fl := c.startForwardLoad(cached, 4)
	rl := c.startRefreshLoad(t, "pgrefresher", refreshFams, refreshRate, 2*time.Second+outage)
	time.Sleep(500 * time.Millisecond)
	c.pg.Stop(t)
	downAt := time.Now()
	seen := map[string]map[string]int{}
	sample := map[string]string{} // a body of each probe and status, for the log
	invalidGrants := map[string]int{}
	for time.Since(downAt) < outage {
		for _, p := range probes {
			if seen[p.name] == nil {
				seen[p.name] = map[string]int{}
			}
			for _, r := range c.replicas {
				pg, err := p.ask(r)
				k := fmt.Sprint(pg.status)
				if err != nil {
					k = "transport error"
				}
				seen[p.name][k]++
				if strings.Contains(pg.body, `"invalid_grant"`) {
					invalidGrants[p.name]++
				}
				if _, ok := sample[p.name+" "+k]; !ok {
					sample[p.name+" "+k] = fmt.Sprintf("%.160q", textOf(pg.body))
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.pg.Start(t)
	upAt := time.Now()
	t.Logf("PostgreSQL down for %v", upAt.Sub(downAt).Round(time.Millisecond))
	for _, p := range probes {
		var bodies []string
		for k := range seen[p.name] {
			bodies = append(bodies, k+": "+sample[p.name+" "+k])
		}
		sort.Strings(bodies)
		t.Logf("while down, %s: %s (%s)", p.name, describe(seen[p.name]), strings.Join(bodies, "; "))
	}
	// A relying party told invalid_grant throws its refresh token away: an outage must say
	// server_error (or temporarily_unavailable), never that the token is bad.
	if n := invalidGrants["token endpoint, refresh grant"]; n > 0 {
		t.Errorf("the token endpoint answered invalid_grant %d times to a valid refresh token while the database was down", n)
	}
	if n := seen["forward-auth, session not cached"]["200"]; n > 0 {
		t.Errorf("an uncached forward-auth session was allowed %d times while the database was down", n)
	}
	// The host's own doors say "outage" (503, Retry-After), not a refusal or a crash; a
	// forward-auth answer the replica holds keeps serving within its bound.
	for _, name := range []string{"forward-auth, session not cached", "login page", "token endpoint, refresh grant"} {
		for status, n := range seen[name] {
			if status != "503" && status != "200" {
				t.Errorf("while down, %s answered %s ×%d: want 503 (an outage)", name, status, n)
			}
		}
	}
	if seen["forward-auth, session in the replica's cache"]["200"] == 0 {
		t.Errorf("a cached forward-auth session was not served while the database was down: %v", seen["forward-auth, session in the replica's cache"])
	}

	// Each replica answers from the database again on its own: the session it never cached
	// is allowed, and a refresh grant succeeds.
	for _, r := range c.replicas {
		fwd, grant := time.Duration(0), time.Duration(0)
		for fwd == 0 || grant == 0 {
			if !r.alive() {
				t.Fatalf("%s exited while PostgreSQL restarted (%v):\n%s", r.name, r.err, r.logTail())
			}
			if fwd == 0 {
				if st, _ := c.askForward(r, uncached[index(r)].token, "/up"); st == http.StatusOK {
					fwd = time.Since(upAt)
				}
			}
			if grant == 0 { // once: the refresh token is spent by its success
				if p, _ := tokenGrant(r, seed.RefreshTokens[index(r)]); p.status == http.StatusOK {
					grant = time.Since(upAt)
				}
			}
			if time.Since(upAt) > recoveryBound {
				t.Fatalf("%s did not answer from the database %v after PostgreSQL was back (forward-auth %v, token %v)", r.name, recoveryBound, fwd, grant)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%s recovered: uncached forward-auth allowed %v and a refresh grant issued %v after PostgreSQL started", r.name,
			fwd.Round(time.Millisecond), grant.Round(time.Millisecond))
	}
	outcomes := fl.end()
	refresh := rl.wait(t)
	t.Logf("forward-auth load through nginx (cached sessions) across the restart: %s", describe(outcomes))
	t.Logf("refresh load through nginx (oidcload) across the restart: %s", refresh)
	if n := outcomes["wrong user"]; n > 0 {
		t.Errorf("%d forward-auth answers named another user", n)
	}
	var pids []string
	for _, r := range c.replicas {
		if !r.alive() {
			t.Errorf("%s exited: %v", r.name, r.err)
			continue
		}
		kids := childrenOf(r.pid())
		sort.Ints(kids)
		pids = append(pids, fmt.Sprintf("%s pid %d (children %v)", r.name, r.pid(), kids))
		if len(kids) == 0 {
			t.Errorf("%s has no plugin process after the restart", r.name)
		}
	}
	t.Logf("alive after the restart: %s", strings.Join(pids, "; "))
	p, err := try(nginxApp, "GET", c.app+"/up", nil, http.Header{"Cookie": {"hx_forward=" + uncached[0].token}})
	if o := outcomeOf(p, err, uncached[0].user); o != "ok" {
		t.Errorf("the app through nginx after the restart: %s", o)
	}
}

// tags matches HTML tags, dropped from page bodies in the log.
var tags = regexp.MustCompile(`(?s)<style.*?</style>|<script.*?</script>|<[^>]*>|\s+`)

// textOf is a page's text in one line.
func textOf(body string) string { return strings.TrimSpace(tags.ReplaceAllString(body, " ")) }
