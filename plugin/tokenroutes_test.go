package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/shared/loader"
	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
	"github.com/plexlogin/plexlogin/shared/source"
)

// TestOwnerTokensGoOnlyToPlexTV: Plex Media Servers take no JWTs (as of mid-2026, one
// report), so a device-key owner token must only ever reach plex.tv. Every call of the
// plugin that uses the owner tokens (settings saved, logins decided by the owner lists,
// re-validation, warnings, the health check, Check a machine ID, Upgrade, renewal) is run,
// and every request that carries one of them is recorded: none goes to a simulated server.
func TestOwnerTokensGoOnlyToPlexTV(t *testing.T) {
	sim := plexsim.NewDefault()
	var mu sync.Mutex
	seen := map[string][]string{} // token → paths it was sent to
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-Plex-Token")
		if tok == "" {
			tok = r.URL.Query().Get("X-Plex-Token")
		}
		mu.Lock()
		seen[tok] = append(seen[tok], r.URL.Path)
		mu.Unlock()
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	sim.SetPublicURL(srv.URL)
	logs := &loadertest.LogBuffer{}
	p, err := loader.Load(manifestPath, loader.Options{Logger: hclog.New(&hclog.LoggerOptions{Output: logs}),
		ExtraEnv: []string{"PLEX_TV_URL=" + srv.URL, "PLEX_APP_URL=" + srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	e := &env{t: t, sim: sim, url: srv.URL, plugin: p, logs: logs, owner: sim.Token("owner")}
	ctx := context.Background()
	hank := sim.TokenFor("otherhome", sourceClientID)
	inst, _ := e.legacyConfig("plex-routes", hank)
	up := e.upgrade(inst)
	up = e.merge(up, json.RawMessage(`{"allow_friends":true,"home_profiles":true}`))
	k := keysOf(t, up)
	for _, persona := range []string{"friend", "noshare", "owner", "pending", "otherhome"} {
		_, _ = e.login(up, persona)
	}
	_, _ = p.Revalidate(ctx, up, source.RevalidateRequest{Subject: "2003"})
	_, _ = p.ConfigWarnings(ctx, up)
	_, _ = p.RunAction(ctx, up, source.ActionRequest{ActionID: "owner_token_health"})
	_, _ = p.RunAction(ctx, up, source.ActionRequest{ActionID: "check_machine_id", Input: json.RawMessage(`{"machine_id":"` + plexsim.ServerCabin + `"}`)})
	_, _ = p.RenewSourceCredentials(ctx, up)
	mu.Lock()
	defer mu.Unlock()
	for _, tok := range []string{k.OwnerToken, k.Others[0]} {
		if len(seen[tok]) == 0 {
			t.Fatal("the owner tokens were never used: the test proves nothing")
		}
		for _, path := range seen[tok] {
			if strings.HasPrefix(path, plexsim.PMSPrefix) || !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/users/") {
				t.Errorf("an owner token was sent to %s, not plex.tv's API", path)
			}
		}
	}
}
