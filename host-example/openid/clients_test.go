package openid_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

func TestCORSOnlyForRegisteredOrigins(t *testing.T) {
	d := newIDP(t)
	for origin, want := range map[string]string{"http://127.0.0.1:9": "http://127.0.0.1:9", "https://evil.example": ""} {
		req, _ := http.NewRequest("GET", d.issuer+"/.well-known/openid-configuration", nil)
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %s: allowed %q, want %q", origin, got, want)
		}
		if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("origin %s: credentials allowed", origin)
		}
	}
}

func TestClientsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "clients.json")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := map[string]string{"GRAFANA_SECRET": "a-long-enough-grafana-secret"}
	good := write(`[{"client_id":"grafana","client_secret_env":"GRAFANA_SECRET","name":"Grafana",
		"redirect_uris":["https://grafana.example.com/login/generic_oauth"],"grant_types":["authorization_code","refresh_token"],
		"allowed_groups":["plex-owner"],
		"launch_url":"https://grafana.example.com/", "id_token_signed_response_alg":"ES256"},
		{"client_id":"cli","public":true,"name":"CLI","redirect_uris":["http://127.0.0.1/cb"]}]`)
	list, err := openid.ReadClientsFile(good, func(k string) string { return env[k] })
	if err != nil || len(list) != 2 || list[0].SecretSHA256 != openid.HashSecret(env["GRAFANA_SECRET"]) || list[0].Origin != "file" ||
		list[0].LaunchURL != "https://grafana.example.com/" || list[1].LaunchURL != "" || list[0].IDTokenAlg != "ES256" || list[1].IDTokenAlg != "" {
		t.Fatalf("good file: %+v %v", list, err)
	}
	for name, c := range map[string]struct{ json, want string }{
		"plaintext secret": {`[{"client_id":"app1","client_secret":"hunter2","name":"X","redirect_uris":["https://x.example/cb"]}]`, "sha256sum"},
		"unknown key":      {`[{"client_id":"app1","client_secret_sha256":"` + strings.Repeat("a", 64) + `","name":"X","redirect_uris":["https://x.example/cb"],"scopes":[]}]`, "scopes"},
		"http not loopback": {`[{"client_id":"app1","client_secret_sha256":"` + strings.Repeat("a", 64) + `","name":"X","redirect_uris":["http://x.example/cb"]}]`,
			"loopback"},
		"no secret":   {`[{"client_id":"app1","name":"X","redirect_uris":["https://x.example/cb"]}]`, "client_secret_sha256"},
		"bad grant":   {`[{"client_id":"app1","public":true,"name":"X","redirect_uris":["https://x.example/cb"],"grant_types":["implicit"]}]`, "implicit"},
		"missing env": {`[{"client_id":"app1","client_secret_env":"NOPE","name":"X","redirect_uris":["https://x.example/cb"]}]`, "NOPE"},
		"twice":       {`[{"client_id":"app1","public":true,"name":"X","redirect_uris":["https://x.example/cb"]},{"client_id":"app1","public":true,"name":"Y","redirect_uris":["https://y.example/cb"]}]`, "twice"},
		"unknown alg": {`[{"client_id":"app1","public":true,"name":"X","redirect_uris":["https://x.example/cb"],"id_token_signed_response_alg":"HS256"}]`,
			`id_token_signed_response_alg: signing algorithm "HS256" is not offered: use RS256, ES256, EdDSA`},
		"alg none": {`[{"client_id":"app1","public":true,"name":"X","redirect_uris":["https://x.example/cb"],"id_token_signed_response_alg":"none"}]`,
			"id_token_signed_response_alg"},
		"fragment in uri": {`[{"client_id":"app1","public":true,"name":"X","redirect_uris":["https://x.example/cb#f"]}]`, "fragment"},
	} {
		if _, err := openid.ReadClientsFile(write(c.json), func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (want …%s…)", name, err, c.want)
		}
	}
	// A launch URL is an absolute https URL (http on loopback), parsed strictly.
	for _, bad := range []string{"javascript:alert(1)", "http://x.example/", "/relative", "https://user:pw@x.example/", "https://x.example/a b",
		"https://x.example/\t", "https:x.example", "data:text/html,x", "https://x.example/%zz", "ftp://x.example/", "HTTPS://x.example/"} {
		c := fmt.Sprintf(`[{"client_id":"app1","public":true,"name":"X","redirect_uris":["https://x.example/cb"],"launch_url":%q}]`, bad)
		if _, err := openid.ReadClientsFile(write(c), func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "launch_url") {
			t.Errorf("launch URL %q: %v", bad, err)
		}
	}
	for name, c := range map[string]struct{ json, want string }{
		"loopback launch": {`[{"client_id":"app1","public":true,"name":"X","redirect_uris":["https://x.example/cb"],"launch_url":"http://127.0.0.1:3000/#/home"}]`, ""},
	} {
		if list, err := openid.ReadClientsFile(write(c.json), func(k string) string { return env[k] }); err != nil || list[0].LaunchURL == c.want {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A client from the clients file logs in; removed from the file, it is gone at the next start.
func TestFileClientLogsIn(t *testing.T) {
	d := newIDP(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "clients.json")
	_ = os.WriteFile(path, []byte(`[{"client_id":"from-file","client_secret_env":"FILE_SECRET","name":"From file",
		"redirect_uris":["http://127.0.0.1:9/callback"]}]`), 0o600)
	list, err := openid.ReadClientsFile(path, func(string) string { return "a-long-enough-file-secret" })
	if err != nil {
		t.Fatal(err)
	}
	d.fileClients = list
	d.start(openid.RS256)
	r := d.rp()
	r.config.ClientID, r.config.ClientSecret = "from-file", "a-long-enough-file-secret"
	r.verifier = r.provider.Verifier(&gooidc.Config{ClientID: "from-file"})
	if _, c := r.login(t, d.browser(), "friend"); c.Subject == "" {
		t.Fatal("no subject")
	}
	d.fileClients = nil
	d.start(openid.RS256)
	if _, err := d.store.OIDCClientByID(context.Background(), "from-file"); err == nil {
		t.Fatal("a client removed from the file survived a restart")
	}
}

// The allowed CORS origins follow the registered clients: a new client's origin is allowed
// at once, a deleted one's no more (the set is kept between requests).
func TestCORSFollowsClientChanges(t *testing.T) {
	d := newIDP(t)
	allowed := func(origin string) bool {
		req, _ := http.NewRequest("GET", d.issuer+"/.well-known/openid-configuration", nil)
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Access-Control-Allow-Origin") == origin
	}
	const origin = "https://spa.example.test"
	if allowed(origin) {
		t.Fatal("an unregistered origin is allowed")
	}
	d.addClient(store.OIDCClient{ID: "spa", Name: "SPA", Public: true, RedirectURIs: []string{origin + "/cb"},
		GrantTypes: []string{openid.GrantCode}})
	if !allowed(origin) {
		t.Fatal("a new client's origin is not allowed")
	}
	if err := d.store.DeleteOIDCClient(context.Background(), "spa"); err != nil {
		t.Fatal(err)
	}
	if allowed(origin) {
		t.Fatal("a deleted client's origin is still allowed")
	}
}
