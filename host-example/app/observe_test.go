package app_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/buildinfo"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
)

// scrape is h's metrics as Prometheus reads them.
func scrape(t *testing.T, h *hosttest.Host) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.App.Metrics.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", w.Code, w.Body)
	}
	return w.Body.String()
}

// sample is the value of one series in a scrape of h's metrics ("" when absent).
func sample(t *testing.T, h *hosttest.Host, series string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(scrape(t, h))
	if m == nil {
		return ""
	}
	return m[1]
}

// The metrics name the build, and time the forward-auth decisions (on whichever listener
// serves them) and the token endpoint's POSTs, each request once.
func TestBuildInfoAndLatencies(t *testing.T) {
	ask := func(method, u string, form url.Values) {
		t.Helper()
		var res *http.Response
		var err error
		if method == "POST" {
			res, err = http.PostForm(u, form)
		} else {
			req, _ := http.NewRequest(method, u, nil)
			req.Header.Set("X-Original-URL", "http://nowhere.example.test/")
			req.Header.Set("X-Forwarded-Host", "nowhere.example.test")
			res, err = http.DefaultClient.Do(req)
		}
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	bi := buildinfo.Get()
	for _, proxyListener := range []bool{false, true} {
		var h *hosttest.Host
		if proxyListener {
			h = hosttest.New(t, hosttest.ProxyListener())
		} else {
			h = hosttest.New(t)
		}
		build := fmt.Sprintf(`hostexample_build_info{goversion=%q,revision=%q,version=%q}`, bi.GoVersion, bi.Revision, bi.Version)
		if got := sample(t, h, build); got != "1" {
			t.Errorf("%s = %q, want 1", build, got)
		}
		proxy := h.URL
		if proxyListener {
			proxy = h.Proxy.URL
		}
		ask("GET", proxy+"/forward-auth/nginx", nil)
		ask("GET", proxy+"/forward-auth/caddy", nil)
		ask("GET", proxy+"/forward-auth/caddy", nil)
		ask("GET", h.URL+"/forward-auth/start?rd=http://nowhere.example.test/", nil) // not a decision
		ask("POST", h.URL+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {"nobody"}})
		ask("GET", h.URL+"/oauth/token", nil) // not a token request
		for series, want := range map[string]string{
			`hostexample_forward_auth_decision_seconds_count{proxy="nginx"}`:   "1",
			`hostexample_forward_auth_decision_seconds_count{proxy="caddy"}`:   "2",
			`hostexample_forward_auth_decision_seconds_count{proxy="traefik"}`: "0",
			`hostexample_oidc_token_request_seconds_count`:                     "1",
		} {
			if got := sample(t, h, series); got != want {
				t.Errorf("proxy listener %v: %s = %q, want %s", proxyListener, series, got, want)
			}
		}
	}
}
