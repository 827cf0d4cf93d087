package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
)

// scrape is the metrics' text as Prometheus reads it.
func scrape(t *testing.T, h *harness) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.srv.Metrics.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	return w.Body.String()
}

// value is the sample of a metric line that starts with series (0 when absent).
func value(body, series string) string {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// The metrics count sign-ins and refusals by source and reason, token requests by grant
// type, forward-auth answers by outcome, plugin restarts, readiness and store time, and no
// label names a person; the public port never serves them.
func TestMetricsCountWhatHappensAndNameNoOne(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	if p := h.browser().Login("plex", "friend"); p.Location != "/" {
		t.Fatal(p.Body)
	}
	if p := h.browser().Login("plex", "noshare"); p.Status != http.StatusForbidden {
		t.Fatalf("noshare: %d", p.Status)
	}
	// A token request with a made-up code: refused, counted under its grant type.
	resp, err := http.PostForm(h.host.URL+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"},
		"client_id": {"nobody"}, "client_secret": {"x"}, "redirect_uri": {"http://x/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A forward-auth question about a host with no rule: forbidden.
	req, _ := http.NewRequest("GET", h.host.URL+"/forward-auth/nginx", nil)
	req.Header.Set("X-Original-URL", "http://nowhere.example.test/")
	req.Header.Set("X-Original-Host", "nowhere.example.test")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}

	body := scrape(t, h)
	for series, want := range map[string]string{
		`hostexample_signins_total{outcome="allowed",reason="member_of_allowed_server",source="plex"}`: "1",
		`hostexample_oidc_token_requests_total{grant_type="authorization_code",outcome="refused"}`:     "1",
		`hostexample_forward_auth_decisions_total{outcome="forbid",proxy="nginx"}`:                     "1",
		`hostexample_plugin_restarts_total{plugin="plex"}`:                                             "0",
		`hostexample_ready`: "1",
	} {
		if got := value(body, series); got != want {
			t.Errorf("%s = %q, want %s", series, got, want)
		}
	}
	if !regexp.MustCompile(`(?m)^hostexample_signins_total\{outcome="denied",reason="[a-z_]+",source="plex"\} 1$`).MatchString(body) {
		t.Errorf("no refusal counted:\n%s", grep(body, "signins"))
	}
	if got := value(body, `hostexample_store_seconds_count{db="write",op="exec"}`); got == "" || got == "0" {
		t.Errorf("store time not observed: %q", got)
	}
	users, _ := h.store.Users(context.Background())
	for _, u := range users {
		for _, who := range []string{u.Username, u.PublicID, u.Subject, u.Email} {
			if who != "" && strings.Contains(body, `"`+who+`"`) {
				t.Errorf("a label names %q", who)
			}
		}
	}
	resp, err = http.Get(h.host.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK || strings.Contains(string(b), "hostexample_") {
		t.Fatalf("the public port serves the metrics: %d", resp.StatusCode)
	}
}

func grep(body, part string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, part) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The log says what happened (events, token requests, forward-auth denials) as JSON lines,
// and never holds the Plex token a login kept.
func TestAuditLogInJSONWithoutSecrets(t *testing.T) {
	buf := &loadertest.LogBuffer{}
	h := newHarness(t, func(c *app.Config) {
		c.Logger = hclog.New(&hclog.LoggerOptions{Output: buf, JSONFormat: true, Level: hclog.Info})
	})
	h.addSource(ssoConfig)
	b := h.browser()
	b.Login("plex", "friend")
	tok, _ := kept(t, h)
	req, _ := http.NewRequest("GET", h.host.URL+"/forward-auth/nginx", nil)
	req.Header.Set("X-Original-URL", "http://nowhere.example.test/secret-path?code=abc")
	req.Header.Set("X-Original-Host", "nowhere.example.test")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	resp, err := http.PostForm(h.host.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-secret-value"},
		"client_id": {"demo"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := buf.String()
	for _, want := range []string{`"event":"login_allowed"`, `"@message":"forward-auth: denied"`, `"path":"/secret-path"`,
		`"@message":"OpenID Connect token request"`, `"grant_type":"refresh_token"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	for _, secret := range []string{tok, "rt-secret-value", "code=abc"} {
		if secret != "" && strings.Contains(out, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}
