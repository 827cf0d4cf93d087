package systemtest_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

func TestMain(m *testing.M) { hosttest.Main(m) }

// nginxConf is the configuration docs/forward-auth.md shows, with test ports and paths; the
// forward-auth lines are docs/nginx's files themselves (included, never copied here). The app
// is the default server of its socket, the layout that lets any Host header reach it.
var nginxConf = template.Must(template.New("nginx").Parse(nginxConfText))

// nginxHead opens every test nginx's configuration: one unprivileged worker whose pid, logs
// and temporary files are in {{.Dir}}, and the start of the http block.
const nginxHead = `
worker_processes 1;
daemon off;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log info;
events { worker_connections 128; }
http {
  access_log {{.Dir}}/access.log;
  client_body_temp_path {{.Dir}}/tmp/body;
  proxy_temp_path {{.Dir}}/tmp/proxy;
  fastcgi_temp_path {{.Dir}}/tmp/fastcgi;
  uwsgi_temp_path {{.Dir}}/tmp/uwsgi;
  scgi_temp_path {{.Dir}}/tmp/scgi;`

// nginxConfText is nginxConf's text.
const nginxConfText = nginxHead + `

  include {{.Snippets}}/http.conf;
  upstream host_example_proxy { server {{.ProxyHost}}; }

  # The identity server itself: of /forward-auth/, browsers reach only the public paths.
  server {
    listen 127.0.0.1:{{.Port}};
    server_name auth.example.test;
    location ~ ^/forward-auth/(?!(start|logout|handover-code)$) { return 404; }
{{template "public" .}}
  }
  # The same site without that closing location (set up from an older page): the host itself
  # refuses the paths that release a credential there.
  server {
    listen 127.0.0.1:{{.UnclosedPort}};
    server_name auth.example.test;
{{template "public" .}}
  }

  # A protected app, the default server of its socket: a request with any Host reaches it.
  server {
    listen 127.0.0.1:{{.Port}} default_server;
    server_name app.example.test;
    include {{.Snippets}}/auth-locations.conf;
{{- if .PlexWeb}}
    # The Plex Web bridge pasted into an app that does not hand a sign-in over (refused).
    include {{.Snippets}}/plex-web-bridge.conf;
{{- end}}
    location / {
      include {{.Snippets}}/protect.conf;
      proxy_pass http://{{.Upstream}};
    }
  }
{{with .PlexWeb}}
  # Plex Web on a host of its own (docs/plex-sso.md): forward-auth, and the bridge that signs
  # the browser into Plex Web.
  server {
    listen 127.0.0.1:{{$.Port}};
    server_name plexweb.example.test;
    include {{$.Snippets}}/auth-locations.conf;
    include {{$.Snippets}}/plex-web-bridge.conf;
    location / {
      include {{$.Snippets}}/protect.conf;
      proxy_pass http://{{.}};
    }
  }
{{end}}
}
{{define "public"}}    location / {
      proxy_pass http://{{.Host}};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }{{end}}`

// Every include file of docs/nginx is in the configuration the tests run.
func TestEveryNginxSnippetIsRun(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "docs", "nginx", "*.conf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("docs/nginx/*.conf: %v", err)
	}
	for _, f := range files {
		if !strings.Contains(nginxConfText, "{{.Snippets}}/"+filepath.Base(f)+";") && !strings.Contains(nginxConfText, "{{$.Snippets}}/"+filepath.Base(f)+";") {
			t.Errorf("docs/nginx/%s is not included by the tests' nginx configuration", filepath.Base(f))
		}
	}
}

// stack is host-example (real plugin process, simulated plex.tv) behind a real nginx, with
// an upstream app that echoes the headers it receives.
type stack struct {
	t        *testing.T
	st       *store.Store
	host     *hosttest.Host
	src      *store.Source
	sim      *plexsim.Sim
	simURL   string
	hostAddr string // host-example's own listener
	port     string // nginx's
	unclosed string // nginx's port of the public site without the closing location
	auth     string // http://auth.example.test:port
	app      string // http://app.example.test:port
	upstream *httptest.Server
}

func freePort(t *testing.T) string { return hosttest.FreePort(t) }

const adminPassword = hosttest.AdminPassword

func newStack(t *testing.T) *stack { return newStackOf(t, "", false) }

// noSource as newStackOf's source config starts the stack without a source.
const noSource = "none"

// newStackOf is newStack with a source config (sourceCfg; "" for the default) and, with
// plexWeb, the Plex Web host (plexweb.example.test) proxied to the simulator's Plex Web; opts
// adjust the host (with hosttest.ProxyListener the proxy-only locations ask its listener).
func newStackOf(t *testing.T, sourceCfg string, plexWeb bool, opts ...hosttest.Option) *stack {
	t.Helper()
	nginx := browsertest.Required(t, "nginx (Debian's nginx)", "nginx", "/usr/sbin/nginx")
	s := &stack{t: t, port: freePort(t), unclosed: freePort(t)}
	s.auth, s.app = "http://auth.example.test:"+s.port, "http://app.example.test:"+s.port

	sim, simURL := plexsim.Serve(t, plexsim.DefaultWorld())
	s.sim = sim
	pub, _ := url.Parse(s.auth)
	h := hosttest.New(t, append([]hosttest.Option{hosttest.Plugins(hosttest.PluginDir(), plexsim.PluginEnv(simURL)...), hosttest.Public(pub),
		hosttest.Config(func(c *app.Config) { c.CookieDomain = "example.test" })}, opts...)...)
	s.st, s.host = h.Store, h
	host := h.Server
	if sourceCfg == "" {
		sourceCfg = `{"access_mode":"members","owner_token":"OWNER","allowed_servers":[{"machine_id":"` +
			plexsim.ServerLivingRoom + `","name":"Living Room"}]}`
	}
	if sourceCfg != noSource {
		s.src = h.AddSource("plex", "plex", "Plex", sourceCfg, sim.Token("owner"))
	}
	s.simURL, s.hostAddr = simURL, host.Listener.Addr().String()
	webAddr := ""
	if plexWeb {
		su, _ := url.Parse(simURL)
		webAddr = "127.0.0.1:" + su.Port()
	}

	s.upstream = newEchoApp(t)

	// nginx runs unprivileged in its own prefix: as root (CI), as nobody in a folder of its own.
	proxyHost := s.hostAddr
	if h.Proxy != nil {
		proxyHost = h.Proxy.Listener.Addr().String()
	}
	hosttest.Nginx(t, nginx, nginxConf, map[string]any{"Port": s.port, "UnclosedPort": s.unclosed, "Host": s.hostAddr, "ProxyHost": proxyHost,
		"Upstream": s.upstream.Listener.Addr().String(), "PlexWeb": webAddr})
	return s
}

// client is a plain HTTP client that reaches nginx for the fake names and does not follow redirects.
func (s *stack) client() *http.Client {
	d := &net.Dialer{}
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, "127.0.0.1:"+s.port)
		}}}
}

func (s *stack) get(u string, hdr map[string]string, cookies ...*http.Cookie) (int, string, http.Header) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestNginxForwardAuthInTheBrowser: the admin protects an app in the admin UI; an anonymous
// visit is sent to the login, comes back to the original URL and the app receives the
// Remote-* headers; a user outside the app's groups gets the 403 page; logging out and
// disabling a user end access.
func TestNginxForwardAuthInTheBrowser(t *testing.T) {
	s := newStack(t)
	ctx := browsertest.New(t, chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"))
	steps, click, visible := browsertest.Steps, browsertest.Click, browsertest.Visible

	// Before any rule, an unknown host is refused: the page says the address is not set up and
	// offers the host's sign-in, carrying no return address to it (an open redirect).
	code, body, _ := s.get(s.app+"/", nil)
	if code != http.StatusForbidden {
		t.Fatalf("unknown host: %d, want 403", code)
	}
	if !strings.Contains(body, "This address is not set up") || !strings.Contains(body, `href="`+s.auth+`/login"`) ||
		strings.Contains(body, "return=") || strings.Contains(body, "Your profile") {
		t.Fatalf("unknown host's page: %s", body)
	}

	// The admin protects the app: the whole host for anyone, /admin for plex-owner.
	appHost := "app.example.test:" + s.port
	steps(t, ctx, "admin login", chromedp.Navigate(s.auth+"/admin/login"),
		chromedp.SendKeys(chromedp.CSS("#admin-password"), adminPassword), click("#admin-login"), visible("#new-plex"),
		chromedp.Navigate(s.auth+"/admin/forward-auth"), visible("#new-rule"))
	addRule := func(name, host, path, groups string) {
		acts := []browsertest.Action{click("#new-rule"), visible("#rule-form"),
			chromedp.SendKeys(chromedp.CSS("#rule-name"), name), chromedp.SendKeys(chromedp.CSS("#rule-host"), host)}
		if path != "" {
			acts = append(acts, chromedp.SendKeys(chromedp.CSS("#rule-path"), path))
		}
		if groups != "" {
			acts = append(acts, chromedp.SendKeys(chromedp.CSS("#rule-groups"), groups))
		}
		steps(t, ctx, "add rule "+name, append(acts, click("#save-rule"), visible("#flash"))...)
	}
	// A mistyped host is refused with a reason, and the form keeps what was typed.
	steps(t, ctx, "bad rule", click("#new-rule"), visible("#rule-form"),
		chromedp.SendKeys(chromedp.CSS("#rule-host"), "https://"+appHost+"/"), click("#save-rule"), visible("p.err"))
	if e := browsertest.Text(t, ctx, "p.err"); !strings.Contains(e, "is not a host name") {
		t.Fatalf("bad host error: %q", e)
	}
	steps(t, ctx, "back to the list", chromedp.Navigate(s.auth+"/admin/forward-auth"), visible("#new-rule"))
	addRule("Demo app", appHost, "", "")
	addRule("Demo app admin", appHost, "/admin/", "plex-owner")
	rules := browsertest.Text(t, ctx, "#rules")
	if !strings.Contains(rules, appHost+"/admin") || !strings.Contains(rules, "plex-owner") || !strings.Contains(rules, "anyone who can sign in") {
		t.Fatalf("rules page: %s", rules)
	}
	browsertest.Screenshot(t, ctx, "protected-apps")

	// A person (another browser profile) opens the app: login, back to the original URL, headers.
	uctx := browsertest.New(t, chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"))
	steps(t, uctx, "anonymous visit", append(append([]browsertest.Action{chromedp.Navigate(s.app + "/shows?page=2"),
		visible("#login-plex"), click("#login-plex")}, browsertest.ApproveAs("friend")...), visible("#seen"))...)
	browsertest.WaitLocation(t, uctx, s.app+"/shows?page=2")
	seen := browsertest.Text(t, uctx, "#seen")
	for _, want := range []string{"path=/shows?page=2", "user=frank", "name=Frank Friend", "email=frank@", "groups=plex-friend"} {
		if !strings.Contains(seen, want) {
			t.Errorf("upstream saw %q, lacks %q", seen, want)
		}
	}
	// Outside the groups of /admin: nginx shows the 403 page.
	steps(t, uctx, "admin part", chromedp.Navigate(s.app+"/admin/settings"), visible("#denied"))
	if d := browsertest.Text(t, uctx, "#denied"); !strings.Contains(d, "No access to Demo app admin") || !strings.Contains(d, "Frank Friend") ||
		!strings.Contains(d, "only for members of plex-owner") {
		t.Fatalf("403 page: %s", d)
	}
	// Its styles run by the answer's nonce (its CSP allows nothing else).
	if bg, err := chromedp.Run(uctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header")).backgroundColor`)); err != nil || bg != "rgb(34, 34, 34)" {
		t.Fatalf("the 403 page's styles did not apply: %q %v", bg, err)
	}
	browsertest.Screenshot(t, uctx, "forward-auth-denied")

	// A client's own Remote-User never gets through: with the real cookie, and on a request without one.
	var fwd *http.Cookie
	cookies, err := chromedp.Run(uctx, browsertest.Cookies(s.app))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if c.Name == "hx_forward" {
			fwd = c
		}
	}
	if fwd == nil {
		t.Fatalf("no forward-auth cookie for the app; cookies %v", cookies)
	}
	forged := map[string]string{"Remote-User": "olivia", "Remote-Groups": "plex-owner", "Remote-Email": "olivia@example.test"}
	code, body, _ = s.get(s.app+"/", forged, fwd)
	if code != 200 || !strings.Contains(body, "user=frank\n") || !strings.Contains(body, "groups=plex-friend") ||
		strings.Contains(body, "olivia") || strings.Contains(body, "plex-owner") {
		t.Fatalf("forged headers with a session: %d %s", code, body)
	}
	code, _, hdr := s.get(s.app+"/", forged)
	if code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), s.auth+forwardauth.StartPath+"?rd=") {
		t.Fatalf("forged headers without a session: %d %q", code, hdr.Get("Location"))
	}
	if code, _, _ = s.get(s.app+"/admin", forged, fwd); code != http.StatusForbidden {
		t.Fatalf("forged groups on /admin: %d", code)
	}

	// Logging out on the identity server ends access to the app.
	steps(t, uctx, "logout", chromedp.Navigate(s.auth+"/profile"), visible("#profile button.secondary"),
		click("#profile button.secondary"), visible("#login-plex"),
		chromedp.Navigate(s.app+"/shows"), visible("#login-plex"))
	browsertest.WaitLocation(t, uctx, s.auth+"/login")

	// The owner logs in, passes /admin, and is disabled: the next request goes to the login.
	steps(t, uctx, "owner", append(append([]browsertest.Action{chromedp.Navigate(s.app + "/admin/"), visible("#login-plex"),
		click("#login-plex")}, browsertest.ApproveAs("owner")...), visible("#seen"))...)
	if seen := browsertest.Text(t, uctx, "#seen"); !strings.Contains(seen, "groups=plex-owner") {
		t.Fatalf("owner on /admin: %s", seen)
	}
	users, err := s.st.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Username == "olivia" || strings.Contains(strings.Join(u.Groups, ","), "plex-owner") {
			if err := s.st.SetDisabled(context.Background(), u.ID, true, store.DisabledByAdmin); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps(t, uctx, "after disabling", chromedp.Navigate(s.app+"/admin/"), visible("#login-plex"))
	browsertest.WaitLocation(t, uctx, s.auth+"/login")
}
