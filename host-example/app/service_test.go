package app_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

func TestMain(m *testing.M) { hosttest.Main(m) }

// membersConfig lets the simulated upstream's "friend" in.
const membersConfig = `{"access_mode":"members","owner_token":"OWNER","allowed_servers":[{"machine_id":"` +
	plexsim.ServerLivingRoom + `","name":"Living Room"}]}`

// signedInHost is a host with a source "plex" of the real plugin (on a simulated upstream)
// that "friend" signed in to with the browser it answers; cfg edits its Config.
func signedInHost(t *testing.T, cfg func(*app.Config)) (*hosttest.Host, *hosttest.Browser) {
	t.Helper()
	sim, simURL := plexsim.Serve(t, plexsim.DefaultWorld())
	if cfg == nil {
		cfg = func(*app.Config) {}
	}
	h := hosttest.New(t, hosttest.Plugins(hosttest.PluginDir(), plexsim.PluginEnv(simURL)...), hosttest.Config(cfg))
	h.AddSource("plex", "plex", "Plex", membersConfig, sim.Token("owner"))
	b := hosttest.NewBrowser(t, h.URL, hosttest.Upstream{Sim: sim, URL: simURL})
	if p := b.Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("sign-in: %d %s %.300s", p.Status, p.Location, p.Body)
	}
	return h, b
}

// A sign-in's time from its start to signed in is observed by source; the live sessions are
// counted by kind at the scrape; each 429 is counted by the door that answered it: the pages'
// sign-in limit, forward-auth's start limit, the admin's guess limit, the authorization
// endpoint's limit.
func TestSignInTimeLiveSessionsAndLimits(t *testing.T) {
	h, b := signedInHost(t, func(c *app.Config) { c.LoginRate = 1 })
	for series, want := range map[string]string{
		`hostexample_signin_seconds_count{source="plex"}`:     "1",
		`hostexample_live_sessions{kind="host"}`:              "1",
		`hostexample_live_sessions{kind="forward_auth"}`:      "0",
		`hostexample_rate_limited_total{door="login"}`:        "0",
		`hostexample_rate_limited_total{door="forward_auth"}`: "0",
	} {
		if got := sample(t, h, series); got != want {
			t.Errorf("%s = %q, want %s", series, got, want)
		}
	}
	if sum, _ := strconv.ParseFloat(sample(t, h, `hostexample_signin_seconds_sum{source="plex"}`), 64); sum <= 0 || sum > 60 {
		t.Errorf("sign-in took %v s", sum)
	}
	// One start a minute: the next login start from this address is refused.
	other := hosttest.NewBrowser(t, h.URL, hosttest.Upstream{})
	var status int
	for i := 0; i < 3 && status != http.StatusTooManyRequests; i++ {
		p := other.Get("/login")
		status = other.PostForm("/login/plex", map[string][]string{"csrf": {p.CSRF()}}).Status
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("login starts not limited: %d", status)
	}
	for i := 0; i < 40 && status != 0; i++ {
		if p := b.Get("/forward-auth/start?rd=http://nowhere.example.test/"); p.Status == http.StatusTooManyRequests {
			status = 0
		}
	}
	if status != 0 {
		t.Fatal("forward-auth starts not limited")
	}
	for i := 0; i < 10 && status != http.StatusTooManyRequests; i++ {
		other.Get("/admin/login")
		status = other.Submit("/admin/login", map[string][]string{"password": {"wrong guess"}}).Status
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("admin guesses not limited: %d", status)
	}
	status = 0
	for i := 0; i < 40 && status != http.StatusTooManyRequests; i++ {
		status = other.Get("/authorize").Status
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("authorization requests not limited: %d", status)
	}
	for series, want := range map[string]string{
		`hostexample_rate_limited_total{door="login"}`:        "1",
		`hostexample_rate_limited_total{door="forward_auth"}`: "1",
		`hostexample_rate_limited_total{door="admin"}`:        "1",
		`hostexample_rate_limited_total{door="oidc"}`:         "1",
		`hostexample_rate_limited_total{door="other"}`:        "0",
	} {
		if got := sample(t, h, series); got != want {
			t.Errorf("%s = %q, want %s", series, got, want)
		}
	}
}

// A password sign-in that asks for a one-time code is timed from its first attempt (the
// password) to signed in (the code), not from the code alone.
func TestPasswordSignInTimedFromTheFirstAttempt(t *testing.T) {
	sim, simURL := plexsim.Serve(t, plexsim.DefaultWorld())
	h := hosttest.New(t, hosttest.Plugins(hosttest.PluginDir(), plexsim.PluginEnv(simURL)...))
	h.AddSource("plex", "plex", "Plex", strings.Replace(membersConfig, `{`, `{"password_login":true,`, 1), sim.Token("owner"))
	b := hosttest.NewBrowser(t, h.URL, hosttest.Upstream{Sim: sim, URL: simURL})
	csrf := b.Get("/login").CSRF()
	if p := b.PostForm("/login/plex/password", url.Values{"csrf": {csrf}, "login": {"tess"}, "password": {"tf-pass"}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("the code step: %d %.300s", p.Status, p.Body)
	}
	const wait = 1100 * time.Millisecond
	time.Sleep(wait) // the person finds the code
	if p := b.PostForm("/login/plex/password", url.Values{"csrf": {csrf}, "otp": {"123456"}}); p.Location != "/" {
		t.Fatalf("with the code: %d %.300s", p.Status, p.Body)
	}
	if got := sample(t, h, `hostexample_signin_seconds_count{source="plex"}`); got != "1" {
		t.Fatalf("%s sign-ins timed, want 1", got)
	}
	if sum, _ := strconv.ParseFloat(sample(t, h, `hostexample_signin_seconds_sum{source="plex"}`), 64); sum < wait.Seconds() {
		t.Errorf("the sign-in was timed %v s, from the code alone", sum)
	}
}
