// Package loadrun drives full "Log in with Plex" logins through host-example, the real
// plugin process and the simulated plex.tv, all on loopback, and reports latency,
// throughput, plex.tv requests per login, memory and correctness. Bounded in logins and time.
package loadrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// Options bound a run.
type Options struct {
	// PluginDir holds the signed plugin manifest.
	PluginDir string
	// Logins is the total number of logins; Concurrency how many run at once.
	Logins, Concurrency int
	// Latency is added to every simulated plex.tv answer.
	Latency time.Duration
	// MaxDuration stops the run early.
	MaxDuration time.Duration
	// Faults turns on injected plex.tv failures and random kills of the plugin process.
	Faults bool
	// Database is a postgres:// URL of an empty database for the host, or empty (SQLite in a
	// temporary data folder).
	Database string
}

// Report is what a run measured.
type Report struct {
	Logins, Admitted, Denied, TypedErrors, UntypedErrors, WrongAdmits int
	P50, P95, P99, Max                                                time.Duration
	Wall                                                              time.Duration
	Throughput                                                        float64
	PlexCallsPerLogin                                                 map[string]float64
	PluginRSSKiB, HostRSSKiB                                          int
	PluginRestarts, PluginKills                                       int
	UsersStored, DuplicateUsers                                       int
	ErrorKinds                                                        map[string]int
	Bound                                                             time.Duration
	// FailureReasons counts the host's login_failed events by kind/reason.
	FailureReasons map[string]int
}

// members are admitted in members mode; the others must be refused.
var (
	members    = []string{"friend", "otherhome", "twofactor", "google", "homemember", "owner"}
	nonMembers = []string{"noshare", "pending"}
)

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// Run performs one bounded run.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.MaxDuration == 0 {
		o.MaxDuration = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, o.MaxDuration)
	defer cancel()
	sim := plexsim.NewDefault()
	sim.SetLatency(o.Latency)
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	dir, err := os.MkdirTemp("", "loadrun")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	hs := httptest.NewUnstartedServer(nil)
	pub, _ := url.Parse("http://" + hs.Listener.Addr().String())
	a, err := app.New(ctx, app.Config{PublicURL: pub, DataDir: dir, Database: o.Database, PluginsDir: o.PluginDir, LoginRate: 1 << 30,
		// One load generator is one client: the limits on a client's starts would refuse it.
		LoginStarts: host.StartLimits{PerMinute: 1 << 30, PerNetwork: 1 << 30, OpenPerClient: 1 << 20},
		PluginEnv:   plexsim.PluginEnv(simSrv.URL), AdminPassword: "load-run-admin-password"})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	if err := a.WaitPlugins(ctx); err != nil {
		return nil, err
	}
	hs.Config.Handler = a.Handler()
	hs.Start()
	defer hs.Close()

	plugin := a.Plugins.Get("plex").Process
	timeout := 10
	if o.Faults {
		timeout = 2
	}
	cfg := fmt.Sprintf(`{"access_mode":"members","owner_token":%q,"request_timeout_seconds":%d,"allowed_servers":[{"machine_id":%q,"name":"Living Room"},{"machine_id":%q,"name":"Cabin"}]}`,
		sim.Token("owner"), timeout, plexsim.ServerLivingRoom, plexsim.ServerCabin)
	if _, err := a.Sources.Configure(ctx, host.Setup{Plugin: "plex", Slug: "plex", Name: "Plex", Config: json.RawMessage(cfg), Enabled: true}); err != nil {
		return nil, err
	}
	// Warm the owner-side cache once, as a running server would have it.
	if _, err := oneLogin(ctx, hs.URL, simSrv.URL, "friend"); err != nil {
		return nil, fmt.Errorf("warm-up login: %w", err)
	}
	sim.ResetCounts()
	idleRSS := rssKiB(plugin.Pid())

	var kills atomic.Int32
	stopFaults := make(chan struct{})
	var faultWG sync.WaitGroup
	if o.Faults {
		faultWG.Add(1)
		go func() {
			defer faultWG.Done()
			modes := []struct{ ep, mode string }{{"resources", plexsim.Fault503}, {"user", plexsim.Fault500}, {"pins.check", plexsim.FaultRateLimit},
				{"pins.create", plexsim.FaultRateLimit}, {"resources", plexsim.FaultTimeout}, {"users", plexsim.Fault500},
				{"friends", plexsim.FaultGone}, {"user", plexsim.FaultMalformed}, {"home.users", plexsim.FaultTimeout}}
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for i := 0; ; i++ {
				select {
				case <-stopFaults:
					sim.ClearFaults()
					return
				case <-t.C:
				}
				m := modes[rand.IntN(len(modes))]
				sim.Inject(m.ep, m.mode, 1+rand.IntN(3))
				if i%50 == 49 { // about every 2.5 s
					if pid := plugin.Pid(); pid != 0 && syscall.Kill(pid, syscall.SIGKILL) == nil {
						kills.Add(1)
					}
				}
			}
		}()
	}

	type result struct {
		d       time.Duration
		outcome string
		persona string
	}
	results := make(chan result, o.Logins)
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				persona := members[i%len(members)]
				if i%5 == 4 {
					persona = nonMembers[(i/5)%len(nonMembers)]
				}
				t0 := time.Now()
				outcome, _ := oneLogin(ctx, hs.URL, simSrv.URL, persona)
				results <- result{d: time.Since(t0), outcome: outcome, persona: persona}
			}
		}()
	}
	for i := 0; i < o.Logins; i++ {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	wall := time.Since(start)
	close(stopFaults)
	faultWG.Wait()
	close(results)

	rep := &Report{Wall: wall, ErrorKinds: map[string]int{}, PlexCallsPerLogin: map[string]float64{}, PluginKills: int(kills.Load())}
	var ds []time.Duration
	isMember := map[string]bool{}
	for _, m := range members {
		isMember[m] = true
	}
	for r := range results {
		rep.Logins++
		ds = append(ds, r.d)
		switch {
		case r.outcome == "admitted":
			rep.Admitted++
			if !isMember[r.persona] {
				rep.WrongAdmits++
			}
		case r.outcome == "denied":
			rep.Denied++
			if isMember[r.persona] {
				rep.ErrorKinds["member denied"]++
			}
		case strings.HasPrefix(r.outcome, "typed:"):
			rep.TypedErrors++
			rep.ErrorKinds[r.outcome]++
		default:
			rep.UntypedErrors++
			rep.ErrorKinds[r.outcome]++
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	if n := len(ds); n > 0 {
		rep.P50, rep.P95, rep.P99, rep.Max = ds[n/2], ds[n*95/100], ds[n*99/100], ds[n-1]
		rep.Throughput = float64(n) / wall.Seconds()
	}
	for ep, c := range sim.Counts() {
		rep.PlexCallsPerLogin[ep] = float64(c) / float64(max(rep.Logins, 1))
	}
	rep.PluginRSSKiB = idleRSS
	if now := rssKiB(plugin.Pid()); now > rep.PluginRSSKiB {
		rep.PluginRSSKiB = now
	}
	rep.HostRSSKiB = rssKiB(os.Getpid())
	rep.PluginRestarts = plugin.Restarts()
	rep.Bound = 5*o.Latency + 500*time.Millisecond
	users, err := a.Store.Users(context.Background())
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.Subject] {
			rep.DuplicateUsers++
		}
		seen[u.Subject] = true
	}
	rep.UsersStored = len(users)
	evs, _ := a.Store.Events(context.Background(), 100000, "")
	rep.FailureReasons = map[string]int{}
	for _, e := range evs {
		if e.Kind == "login_failed" {
			kind, _, _ := strings.Cut(e.Detail, ":")
			rep.FailureReasons[kind+"/"+e.Reason]++
			if os.Getenv("LOADRUN_DEBUG") != "" {
				fmt.Fprintln(os.Stderr, "internal:", e.Detail)
			}
		}
	}
	return rep, nil
}

// oneLogin runs the whole browser flow for persona and classifies how it ended.
func oneLogin(ctx context.Context, hostURL, simURL, persona string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (int, string, string, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b), nil
	}
	_, _, body, err := get(hostURL + "/login")
	if err != nil {
		return "transport", err
	}
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		return "no login page", nil
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", hostURL+"/login/plex", strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return "transport", err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return classify(resp.StatusCode, string(b)), nil
	}
	claim, _ := json.Marshal(map[string]string{"auth_url": resp.Header.Get("Location"), "persona": persona})
	creq, _ := http.NewRequestWithContext(ctx, "POST", simURL+"/__sim/claim", bytes.NewReader(claim))
	cresp, err := http.DefaultClient.Do(creq)
	if err != nil {
		return "transport", err
	}
	var out struct {
		ForwardURL string `json:"forwardUrl"`
	}
	_ = json.NewDecoder(cresp.Body).Decode(&out)
	cresp.Body.Close()
	if cresp.StatusCode != 200 {
		return "claim failed " + strconv.Itoa(cresp.StatusCode), nil
	}
	status, loc, body, err := get(out.ForwardURL)
	if err != nil {
		return "transport", err
	}
	if status == http.StatusSeeOther && loc == "/" { // the portal: a login with no return address
		return "admitted", nil
	}
	return classify(status, body), nil
}

var titleRE = regexp.MustCompile(`<h1>([^<]*)</h1>`)

// classify names a failure page: "denied", or "typed:<status> <title>" when the page says
// what happened in user words, else "untyped:<status>".
func classify(status int, body string) string {
	if status == http.StatusForbidden && strings.Contains(body, "Access denied") {
		return "denied"
	}
	if m := titleRE.FindStringSubmatch(body); m != nil && strings.Contains(body, `id="message"`) {
		return fmt.Sprintf("typed:%d %s", status, m[1])
	}
	return fmt.Sprintf("untyped:%d", status)
}

func rssKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return 0
}

// String formats the report for people.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "logins %d: admitted %d, denied %d, typed errors %d, untyped errors %d, wrong admits %d\n",
		r.Logins, r.Admitted, r.Denied, r.TypedErrors, r.UntypedErrors, r.WrongAdmits)
	fmt.Fprintf(&b, "latency p50 %v p95 %v p99 %v max %v (reported bound %v)\n", r.P50.Round(time.Millisecond), r.P95.Round(time.Millisecond),
		r.P99.Round(time.Millisecond), r.Max.Round(time.Millisecond), r.Bound)
	fmt.Fprintf(&b, "wall %v, throughput %.1f logins/s\n", r.Wall.Round(time.Millisecond), r.Throughput)
	eps := make([]string, 0, len(r.PlexCallsPerLogin))
	total := 0.0
	for ep, n := range r.PlexCallsPerLogin {
		eps = append(eps, fmt.Sprintf("%s %.2f", ep, n))
		total += n
	}
	sort.Strings(eps)
	fmt.Fprintf(&b, "plex.tv requests per login: %.2f (%s)\n", total, strings.Join(eps, ", "))
	fmt.Fprintf(&b, "plugin RSS %d KiB (max seen), host+load generator RSS %d KiB\n", r.PluginRSSKiB, r.HostRSSKiB)
	fmt.Fprintf(&b, "plugin kills %d, restarts %d; users stored %d, duplicates %d\n", r.PluginKills, r.PluginRestarts, r.UsersStored, r.DuplicateUsers)
	if len(r.FailureReasons) > 0 {
		var ks []string
		for k, n := range r.FailureReasons {
			ks = append(ks, fmt.Sprintf("%s ×%d", k, n))
		}
		sort.Strings(ks)
		fmt.Fprintf(&b, "failed logins by kind/reason: %s\n", strings.Join(ks, "; "))
	}
	if len(r.ErrorKinds) > 0 {
		var ks []string
		for k, n := range r.ErrorKinds {
			ks = append(ks, fmt.Sprintf("%s ×%d", k, n))
		}
		sort.Strings(ks)
		fmt.Fprintf(&b, "errors: %s\n", strings.Join(ks, "; "))
	}
	return b.String()
}
