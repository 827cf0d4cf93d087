package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// renewClientID is the client identifier of the renewal tests' source: its legacy owner
// token is issued to it, as a Sign in to Plex of that source would.
const renewClientID = "source-client-0001"

// renewConfig is a members source with a legacy owner token (OWNER) of its own device.
const renewConfig = `{"access_mode":"members","owner_token":"OWNER","client_identifier":"` + renewClientID + `","allowed_servers":[{"machine_id":"` +
	plexsim.ServerLivingRoom + `","name":"Living Room"},{"machine_id":"` + plexsim.ServerCabin + `","name":"Cabin"}]}`

// lockedBuffer is a log every goroutine may write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// renewalHarness is a host logging everything into logs, whose simulated plex.tv issues
// JWTs of life, with the renewal tests' source upgraded to a device key by the admin.
func renewalHarness(t *testing.T, life time.Duration) (*harness, *browser, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	h := newHarness(t, func(c *app.Config) {
		c.Logger = hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug})
	})
	h.sim.SetJWTLife(life)
	h.owner = h.sim.TokenFor("owner", renewClientID)
	src := h.addSource(renewConfig)
	b := h.browser()
	b.AdminLogin(adminPassword)
	p := b.Do("GET", "/admin/sources/"+src.ID, nil)
	if strings.Contains(p.Body, `id="credentials"`) {
		t.Fatal("a legacy token shown as a credential that expires")
	}
	if p = b.Do("POST", "/admin/sources/"+src.ID+"/actions/upgrade_device_key", url.Values{"csrf": {p.CSRF()}}); p.Status != http.StatusSeeOther {
		t.Fatalf("upgrade: %d %.2000s", p.Status, p.Body)
	}
	if tok, _ := h.config()["owner_token"].(string); tok == h.owner || len(tok) != plexsim.PlexJWTLength {
		t.Fatal("the upgrade did not store a device-key token")
	}
	return h, b, logs
}

// config is the harness source's saved settings.
func (h *harness) config() map[string]any {
	h.t.Helper()
	src, err := h.store.Source(context.Background(), h.source.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := map[string]any{}
	if err := json.Unmarshal(src.Config, &cfg); err != nil {
		h.t.Fatal(err)
	}
	return cfg
}

// renewalEvents are the source's renewal events with reason.
func (h *harness) renewalEvents(reason string) []store.Event {
	h.t.Helper()
	events, err := h.store.Events(context.Background(), 500, "")
	if err != nil {
		h.t.Fatal(err)
	}
	var out []store.Event
	for _, e := range events {
		if e.Kind == store.HealthEvent("credential_renewal") && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHostRenewsCredentials (issue 33): the simulated plex.tv issues 4-second JWTs; the host
// renews the upgraded source's owner token in real time at half its life, logins keep
// working, the source page shows the credential with its expiry and last renewal, a form
// opened before a renewal and saved after it keeps the renewed token, the schedule survives
// a restart (it is in the database), and no token or key is in the clear in the logs, the
// events or the pages.
func TestHostRenewsCredentials(t *testing.T) {
	h, b, logs := renewalHarness(t, 4*time.Second)
	upgraded := h.config()["owner_token"]
	waitFor(t, 20*time.Second, "two renewals", func() bool { return len(h.renewalEvents("renewed")) >= 2 })
	renewed := h.config()["owner_token"]
	if renewed == upgraded || !strings.Contains(h.renewalEvents("renewed")[0].Detail, "credentials renewed: ") {
		t.Fatalf("no renewed token, or the event: %+v", h.renewalEvents("renewed"))
	}
	if p := h.browser().Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("login with the renewed token: %d %s", p.Status, p.Location)
	}
	p := b.Do("GET", "/admin/sources/"+h.source.ID, nil)
	for _, want := range []string{`id="credentials"`, `id="last-renewal"`, `class="credential"`} {
		if !strings.Contains(p.Body, want) {
			t.Fatalf("the source page lacks %q", want)
		}
	}

	// A form loaded before a renewal and saved after it keeps the renewed token.
	n, atLoad := len(h.renewalEvents("renewed")), h.config()["owner_token"]
	form := url.Values{"csrf": {p.CSRF()}, "f.access_mode": {"members"}, "f.owner_token": {""}, "f.client_identifier": {p.Field("f.client_identifier")},
		"f.allowed_servers.0.machine_id": {plexsim.ServerLivingRoom}, "f.allowed_servers.0.name": {"Living Room"},
		"f.allowed_servers.1.machine_id": {plexsim.ServerCabin}, "f.allowed_servers.1.name": {"Cabin"}}
	waitFor(t, 10*time.Second, "a renewal after the form was loaded", func() bool { return len(h.renewalEvents("renewed")) > n })
	if p := b.Do("POST", "/admin/sources/"+h.source.ID, form); p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %.2000s", p.Status, p.Body)
	}
	cfg := h.config()
	if tok := cfg["owner_token"]; tok == atLoad || tok == renewed || tok == upgraded {
		t.Fatal("the form wrote an older owner token over the renewed one")
	}
	if keys, _ := cfg["owner_device_keys"].([]any); len(keys) != 1 {
		t.Fatalf("the save dropped the device key: %d", len(keys))
	}
	if p := h.browser().Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("login after the save: %d %s", p.Status, p.Location)
	}

	// The schedule is in the database: a restarted host renews on.
	h.srv.Restart(nil)
	n = len(h.renewalEvents("renewed"))
	waitFor(t, 15*time.Second, "a renewal after the restart", func() bool { return len(h.renewalEvents("renewed")) > n })
	if p := h.browser().Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("login after the restart: %d %s", p.Status, p.Location)
	}

	b = h.browser()
	b.AdminLogin(adminPassword)
	pages := b.Do("GET", "/admin/sources/"+h.source.ID, nil).Body + b.Do("GET", "/admin", nil).Body + b.Do("GET", "/admin/events", nil).Body
	events, _ := h.store.Events(context.Background(), 500, "")
	var details strings.Builder
	for _, e := range events {
		details.WriteString(e.Detail + " " + e.Reason + "\n")
	}
	backup := filepath.Join(t.TempDir(), "host.backup")
	if err := h.store.Backup(context.Background(), backup); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	cfg = h.config()
	secrets := h.sim.Secrets()
	for _, k := range cfg["owner_device_keys"].([]any) {
		secrets = append(secrets, k.(map[string]any)["key"].(string))
	}
	secrets = append(secrets, cfg["owner_token"].(string))
	if !strings.Contains(logs.String(), "plugin") || len(saved) == 0 {
		t.Fatal("nothing to look in: no log, or no backup")
	}
	for _, s := range secrets {
		if len(s) < 16 {
			continue // a PIN id: short numbers
		}
		for where, text := range map[string]string{"log": logs.String(), "pages": pages, "events": details.String(), "backup": string(saved)} {
			if strings.Contains(text, s) {
				t.Errorf("a token or key in the %s", where)
			}
		}
	}
}

// TestRenewalFaultsAndRefusal (issue 33): plex.tv answering 503 during a renewal keeps the old
// token (still valid) and the host retries until it renews; a device revoked at plex.tv (after
// the first renewal dropped the legacy fallback) turns the source's health red with the
// plugin's words, on its page and the admin home.
func TestRenewalFaultsAndRefusal(t *testing.T) {
	h, b, logs := renewalHarness(t, 6*time.Second) // a retry comes before the old token expires, with room for a slow machine
	waitFor(t, 15*time.Second, "a first renewal", func() bool { return len(h.renewalEvents("renewed")) >= 1 })

	h.sim.Inject("auth.nonce", plexsim.Fault503, -1)
	before := h.config()["owner_token"]
	waitFor(t, 15*time.Second, "a failed renewal", func() bool {
		src, err := h.srv.Sources.Get(context.Background(), h.source.ID)
		if err != nil {
			return false
		}
		for _, c := range h.srv.Sources.Renewals(context.Background(), src, time.Now()).Credentials {
			if c.Error != "" && !c.Refused {
				return true
			}
		}
		return false
	})
	if h.config()["owner_token"] != before {
		t.Fatal("a failed renewal changed the token")
	}
	n := len(h.renewalEvents("renewed"))
	h.sim.ClearFaults()
	waitFor(t, 45*time.Second, "the retry's renewal", func() bool { return len(h.renewalEvents("renewed")) > n })
	if p := h.browser().Login("plex", "friend"); p.Location != "/" {
		t.Fatalf("login after the retry: %d %s", p.Status, p.Location)
	}

	keys := h.config()["owner_device_keys"].([]any)
	h.sim.RevokeDevice(keys[0].(map[string]any)["client_id"].(string))
	waitFor(t, 15*time.Second, "the refusal", func() bool { return len(h.renewalEvents("refused")) > 0 })
	p := b.Do("GET", "/admin/sources/"+h.source.ID, nil)
	if !strings.Contains(p.Body, "refused: ") || !strings.Contains(p.Body, "Re-authorise with Plex") {
		t.Fatalf("the source page does not show the refusal: %.3000s", p.Body)
	}
	home := b.Do("GET", "/admin", nil).Body
	if !strings.Contains(home, "was not renewed: ") || !strings.Contains(home, "<strong>refused</strong>") {
		t.Fatalf("the admin home does not warn of the refusal: %.3000s", home)
	}
	for _, s := range h.sim.Secrets() {
		if len(s) >= 16 && strings.Contains(logs.String(), s) {
			t.Error("a token in the log of a failed or refused renewal")
		}
	}
}

// TestAdminHomeWarnsOfExpiringCredentials (issue 33): the admin home warns of a credential
// with less than 2/7 of its life left (day 5 of 7) that was not renewed, and not of one on
// day 4; the source page shows it as expiring soon.
func TestAdminHomeWarnsOfExpiringCredentials(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	ctx := context.Background()
	// The job looks at the new source once (a legacy token: nothing expires); then the test
	// writes the schedule a device-key token would have, due in days.
	waitFor(t, 10*time.Second, "the job's first look", func() bool {
		r, err := h.store.SourceRenewal(ctx, src.ID)
		return err == nil && r.ConfigVersion == src.ConfigVersion && r.LeaseUntil.IsZero()
	})
	b := h.browser()
	b.AdminLogin(adminPassword)
	now := time.Now()
	for day, warned := range map[float64]bool{4: false, 5.5: true} {
		since := now.Add(-time.Duration(day * float64(24*time.Hour)))
		if err := h.store.FinishRenewal(ctx, store.SourceRenewal{SourceID: src.ID, ConfigVersion: src.ConfigVersion, RenewAfter: now.Add(24 * time.Hour),
			LastRenewedAt: since, Credentials: []store.RenewalCredential{{Field: "owner_token", Label: "the owner token of Olivia",
				ExpiresAt: since.Add(7 * 24 * time.Hour).Unix(), RenewedAt: since.Unix(), Since: since.Unix()}}}); err != nil {
			t.Fatal(err)
		}
		home := b.Do("GET", "/admin", nil).Body
		if got := strings.Contains(home, "the owner token of Olivia expires at "); got != warned {
			t.Errorf("day %.1f of 7: warned %v, want %v", day, got, warned)
		}
		page := b.Do("GET", "/admin/sources/"+src.ID, nil).Body
		if got := strings.Contains(page, "expires soon"); !strings.Contains(page, "the owner token of Olivia") || got != warned {
			t.Errorf("day %.1f of 7: the source page says expires soon %v, want %v", day, got, warned)
		}
	}
}
