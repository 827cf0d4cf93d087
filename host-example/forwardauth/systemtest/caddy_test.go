package systemtest_test

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// caddyfile is the configuration docs/forward-auth.md shows for Caddy, on a test port, plain
// http, with Caddy's admin endpoint off.
var caddyfile = template.Must(template.New("caddy").Parse(`{
	admin off
	auto_https off
}
http://app.example.test:{{.Port}} {
	bind 127.0.0.1
{{- if .PlexWeb}}
	# the Plex Web bridge pasted into an app that does not hand a sign-in over (refused)
	handle /.host-example/handover {
		rewrite * /forward-auth/handover/proxy?{query}
		reverse_proxy {{.Host}}
	}
{{- end}}
	forward_auth {{.Host}} {
		uri /forward-auth/caddy
		copy_headers Remote-User Remote-Name Remote-Email Remote-Groups Remote-Id
	}
	reverse_proxy {{.Upstream}} {
		# the Cookie header without the forward-auth cookie
		header_up Cookie "(^|;\s*)(__Secure-)?hx_forward=[^;]*(;\s*)?" "$1"
	}
}
{{with .PublicPort}}
# host-example's public site (docs/deploy.md): of /forward-auth/, browsers reach only the
# public paths (docs/forward-auth.md).
http://auth.example.test:{{.}} {
	bind 127.0.0.1
	@proxyonly {
		path /forward-auth/*
		not path /forward-auth/start /forward-auth/logout /forward-auth/handover-code
	}
	respond @proxyonly 404
	reverse_proxy {{$.Host}}
}
# The same site without the closing matcher: the host itself refuses the paths that release
# a credential there.
http://auth.example.test:{{$.UnclosedPort}} {
	bind 127.0.0.1
	reverse_proxy {{$.Host}}
}
{{end}}
{{with .PlexWeb}}
# Plex Web on a host of its own (docs/plex-sso.md): the bridge first, then forward-auth.
http://plexweb.example.test:{{$.Port}} {
	bind 127.0.0.1
{{- if $.ReflectCORS}}
	# a careless CORS setup: any origin may read answers, with credentials
	header Access-Control-Allow-Origin {http.request.header.Origin}
	header Access-Control-Allow-Credentials true
{{- end}}
	handle /.host-example/handover {
		rewrite * /forward-auth/handover/proxy?{query}
		reverse_proxy {{$.Host}}
	}
	handle {
		forward_auth {{$.Host}} {
			uri /forward-auth/caddy
		}
		reverse_proxy {{.}} {
			header_up Cookie "(^|;\s*)(__Secure-)?hx_forward=[^;]*(;\s*)?" "$1"
		}
	}
}
{{end}}`))

// CaddyVersion is the current Caddy the configurations are tested against besides Debian's
// (scripts/caddy builds it; CADDY names the binary).
const CaddyVersion = "v2.11.9"

// eachCaddy runs f as a subtest with each Caddy: Debian's (2.6) and the current one. A Caddy
// that is not installed skips its subtest, or fails it under CI.
func eachCaddy(t *testing.T, f func(t *testing.T, caddy string)) {
	t.Run("debian", func(t *testing.T) { f(t, browsertest.Required(t, "caddy (Debian's caddy)", "caddy", "/usr/bin/caddy")) })
	t.Run(CaddyVersion, func(t *testing.T) {
		bin := browsertest.Required(t, "caddy "+CaddyVersion+" (CADDY=$(scripts/caddy))", os.Getenv("CADDY"))
		if bi, err := buildinfo.ReadFile(bin); err != nil || bi.Main.Version != CaddyVersion {
			t.Fatalf("CADDY=%s is not Caddy %s (scripts/caddy builds it): %v", bin, CaddyVersion, err)
		}
		f(t, bin)
	})
}

// startCaddy runs the Caddy binary caddy, unprivileged, in front of the host at hostAddr for
// the app at upstreamAddr (and, when plexWeb is set, Plex Web at that address); it answers
// Caddy's address.
func startCaddy(t *testing.T, caddy, hostAddr, upstreamAddr, plexWeb string) string {
	return startCaddyWith(t, caddy, map[string]string{"Host": hostAddr, "Upstream": upstreamAddr, "PlexWeb": plexWeb})
}

// startCaddyWith is startCaddy with the template's data (Host, Upstream, PlexWeb, ReflectCORS, and with
// PublicPort and UnclosedPort host-example's public site); it sets Port, Caddy's address.
func startCaddyWith(t *testing.T, caddy string, data map[string]string) string {
	port := freePort(t)
	data["Port"] = port
	var conf bytes.Buffer
	if err := caddyfile.Execute(&conf, data); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + port
	runCaddy(t, caddy, conf.String(), addr)
	return addr
}

// runCaddy runs the Caddy binary caddy, unprivileged, on the Caddyfile conf, in a folder of
// its own, until the test ends; it returns once Caddy listens on addr.
func runCaddy(t *testing.T, caddy, conf, addr string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "caddy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	confPath := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"config", "data"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var log bytes.Buffer
	cmd := exec.Command(caddy, "run", "--config", confPath, "--adapter", "caddyfile")
	// Caddy saves its state under HOME and the XDG folders: a temporary one, never the machine's.
	cmd.Env = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"PATH=/usr/bin:/bin"}
	cmd.Stdout, cmd.Stderr = &log, &log
	unprivileged(t, cmd, dir)
	// A binary in a cache under root's home cannot be run by nobody: a link in Caddy's own folder.
	cmd.Path = reachable(t, caddy, dir)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start caddy: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		<-exited
		if t.Failed() {
			t.Logf("caddy's log:\n%s", log.String())
		}
	})
	waitListening(t, addr, exited, log.String)
}

// Issue 17 #2, end to end with a real Caddy: Caddy's forward_auth sets X-Forwarded-Method and
// -Uri (and -Host, -Proto) itself but passes a client's X-Original-URL and X-Original-Method
// through; the Caddy endpoint judges the real request, never those.
func TestCaddyJudgesTheRealRequest(t *testing.T) {
	eachCaddy(t, func(t *testing.T, caddy string) { caddyJudgesTheRealRequest(t, caddy) })
}

func caddyJudgesTheRealRequest(t *testing.T, caddy string) {
	f := newFixture(t)
	host := httptest.NewServer(f.srv)
	t.Cleanup(host.Close)
	app := newEchoApp(t)
	addr := startCaddy(t, caddy, host.Listener.Addr().String(), app.Listener.Addr().String(), "")
	appHost := "app.example.test:" + strings.TrimPrefix(addr, "127.0.0.1:")
	ctx := context.Background()
	for _, r := range []store.ForwardRule{
		{Host: appHost},
		{Host: appHost, PathPrefix: "/admin", Groups: []string{"plex-owner"}},
		{Host: appHost, PathPrefix: "/api", Bypass: []string{"/api/hooks"}, BypassOptions: true},
	} {
		if errs := forwardauth.CheckRule(&r); len(errs) > 0 {
			t.Fatal(errs)
		}
		if _, err := f.st.PutForwardRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	friend := f.forwardToken(f.friend)
	owner, err := f.st.User(ctx, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path, token string, hdr map[string]string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, nil)
		req.Host = appHost
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if token != "" {
			req.AddCookie(&http.Cookie{Name: "hx_forward", Value: token})
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	forged := map[string]string{"X-Original-URL": "http://" + appHost + "/public/", "X-Original-Method": "GET",
		"X-Forwarded-Uri": "/public/", "X-Forwarded-Host": appHost, "X-Forwarded-Method": "GET"}

	// A friend asks for /admin/ and says, in every header a client can send, that it is /public/.
	if code, body, _ := send("GET", "/admin/settings", friend, forged); code != http.StatusForbidden || strings.Contains(body, "path=") {
		t.Errorf("friend on /admin with forged headers: %d %.200s, want 403", code, body)
	}
	// An anonymous GET says it is a preflight (the /api rule lets preflights pass).
	code, body, hdr := send("GET", "/api/v1/series", "", map[string]string{"X-Original-Method": "OPTIONS", "X-Forwarded-Method": "OPTIONS"})
	if code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), "http://auth.example.test"+forwardauth.StartPath+"?rd=") {
		t.Errorf("anonymous GET posing as a preflight: %d %q %.200s, want 302 to the login", code, hdr.Get("Location"), body)
	}
	// The real preflight passes, with empty identity headers.
	if code, body, _ := send("OPTIONS", "/api/v1/series", "", nil); code != http.StatusOK || !strings.Contains(body, "user=\n") {
		t.Errorf("preflight: %d %.200s", code, body)
	}
	// Judged on the real path, every reading of it.
	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"POST", "/admin/..;/api/hooks", "", http.StatusForbidden},
		{"POST", "/admin/%2e%2e/api/hooks", "", http.StatusForbidden},
		{"GET", "/ADMIN/", friend, http.StatusForbidden},
		{"GET", "/Admin/users", friend, http.StatusForbidden},
		{"GET", "/login.view;jsessionid=X", friend, http.StatusOK},
		{"POST", "/api/hooks/sonarr", "", http.StatusOK},
	} {
		if code, body, _ := send(c.method, c.path, c.token, nil); code != c.want {
			t.Errorf("%s %s: %d %.200s, want %d", c.method, c.path, code, body, c.want)
		}
	}
	// The app sees host-example's identity, never the client's.
	code, body, _ = send("GET", "/shows?page=2", friend, map[string]string{"Remote-User": "olivia", "Remote-Id": owner.PublicID, "Remote-Groups": "plex-owner"})
	if code != http.StatusOK || !strings.Contains(body, "path=/shows?page=2\n") || !strings.Contains(body, "user=frank\n") ||
		strings.Contains(body, "olivia") || strings.Contains(body, owner.PublicID) || strings.Contains(body, "plex-owner") {
		t.Errorf("friend with forged identity headers: %d %s", code, body)
	}
	// The app never receives the forward-auth cookie (it could replay it at the other apps); other cookies pass.
	code, body, _ = send("GET", "/shows", friend, map[string]string{"Cookie": "app_session=1; theme=dark"})
	if code != http.StatusOK || strings.Contains(body, "hx_forward") || !strings.Contains(body, "app_session=1") || !strings.Contains(body, "theme=dark") {
		t.Errorf("cookies the app receives: %d %s", code, body)
	}
	// A second forward-auth cookie before the real one (an app under the cookie domain set it):
	// refused, so the app never receives the real one that the regex would leave behind.
	code, body, _ = send("GET", "/shows", friend, map[string]string{"Cookie": "sid=1; hx_forward=x"})
	if code != http.StatusForbidden || strings.Contains(body, friend) {
		t.Errorf("a planted second cookie: %d %s", code, body)
	}
	// Caddy tells the app the Host as sent, the scheme and the peer's address itself, replacing a
	// client's X-Forwarded-* (it trusts no proxy).
	code, body, _ = send("GET", "/shows", friend, map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
		"X-Forwarded-Host": "evil.example"})
	if code != http.StatusOK || !strings.Contains(body, "\nhost="+appHost+"\n") || !strings.Contains(body, "proto=http\n") ||
		!strings.Contains(body, "forwarded-for=127.0.0.1\n") || !strings.Contains(body, "forwarded-host="+appHost+"\n") ||
		strings.Contains(body, "203.0.113.7") || strings.Contains(body, "evil.example") {
		t.Errorf("what the app is told of the request: %d %s", code, body)
	}
	ownerTok := f.forwardToken(f.owner)
	if code, body, _ := send("GET", "/admin/settings", ownerTok, nil); code != http.StatusOK || !strings.Contains(body, "id="+owner.PublicID+"\n") {
		t.Errorf("owner on /admin: %d %s, want 200 with Remote-Id %s", code, body, owner.PublicID)
	}
}
