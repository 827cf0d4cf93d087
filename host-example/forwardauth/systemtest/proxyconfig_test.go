package systemtest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// generatedRules are rules of each shape the proxy configuration generator writes differently.
var generatedRules = []store.ForwardRule{
	{Name: "Sonarr", Host: "sonarr.example.test"},
	{Name: "Admin", Host: "wiki.example.test:8443", PathPrefix: "/admin"},
	{Name: "Plex Web", Host: "plexweb.example.test", Handover: "plex.token"},
}

// generatedNginxConf is an nginx.conf around the generator's lines as they are: only the
// machine's folders (docs/nginx's files, the certificates) are this test's.
var generatedNginxConf = template.Must(template.New("generated").Funcs(template.FuncMap{
	"here": func(lines, snippets string) string {
		return strings.ReplaceAll(lines, forwardauth.NginxSnippetDir+"/", snippets+"/")
	},
}).Parse(`
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log info;
events { worker_connections 16; }
http {
  access_log {{.Dir}}/access.log;
{{here .HTTP .Snippets}}
{{range .Servers}}{{here . $.Snippets}}
{{end}}}
`))

// The admin's rule page shows the generator's nginx lines: the real nginx accepts them, with
// docs/nginx's files included where the lines say and the upstream written once.
func TestGeneratedNginxConfigPassesNginx(t *testing.T) {
	nginx := browsertest.Required(t, "nginx (Debian's nginx)", "nginx", "/usr/sbin/nginx")
	proxy, _ := url.Parse("http://127.0.0.1:9091")
	certs := t.TempDir()
	var servers []string
	var http string
	for _, r := range generatedRules {
		c := forwardauth.ProxyConfigFor(r, proxy)
		if !strings.Contains(c.NginxHTTP, "server 127.0.0.1:9091;") {
			t.Fatalf("the upstream is not the proxy address:\n%s", c.NginxHTTP)
		}
		writeCert(t, filepath.Join(certs, strings.Split(r.Host, ":")[0]))
		http = c.NginxHTTP // the same for every rule: written once
		servers = append(servers, c.Nginx)
	}
	// the certificates' folder is this test's
	for i := range servers {
		servers[i] = strings.ReplaceAll(servers[i], forwardauth.NginxCertDir+"/", certs+"/")
	}
	out, err := hosttest.NginxTest(t, nginx, generatedNginxConf, map[string]any{"HTTP": http, "Servers": servers})
	if err != nil {
		t.Fatalf("nginx -t refuses the generated configuration: %v\n%s", err, out)
	}
}

// writeCert writes a self-signed certificate as certbot's fullchain.pem and privkey.pem in dir.
func writeCert(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: filepath.Base(dir)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]*pem.Block{"fullchain.pem": {Type: "CERTIFICATE", Bytes: der}, "privkey.pem": {Type: "EC PRIVATE KEY", Bytes: kb}} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// The admin's rule page shows the generator's Caddy site block: each Caddy accepts it.
func TestGeneratedCaddyConfigPassesCaddy(t *testing.T) {
	eachCaddy(t, func(t *testing.T, caddy string) {
		proxy, _ := url.Parse("http://127.0.0.1:9091")
		dir := t.TempDir()
		var conf strings.Builder
		for _, r := range generatedRules {
			c := forwardauth.ProxyConfigFor(r, proxy)
			if !strings.Contains(c.Caddy, "forward_auth 127.0.0.1:9091 {") {
				t.Fatalf("forward_auth does not ask the proxy address:\n%s", c.Caddy)
			}
			conf.WriteString(c.Caddy)
		}
		path := filepath.Join(dir, "Caddyfile")
		if err := os.WriteFile(path, []byte(conf.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(caddy, "validate", "--config", path, "--adapter", "caddyfile")
		cmd.Env = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "XDG_DATA_HOME=" + filepath.Join(dir, "data"),
			"PATH=/usr/bin:/bin"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("caddy validate refuses the generated configuration: %v\n%s\n%s", err, out, conf.String())
		}
	})
}

// generatedRunConf runs the generator's nginx lines as they are, with nginx's own paths of a
// test: only the machine's folders (docs/nginx's files, the certificates) and the app's
// address are this test's.
var generatedRunConf = template.Must(template.New("run").Funcs(template.FuncMap{
	"here": func(lines, snippets string) string {
		return strings.ReplaceAll(lines, forwardauth.NginxSnippetDir+"/", snippets+"/")
	},
}).Parse(nginxHead + `
{{here .HTTP .Snippets}}
{{here .Server .Snippets}}
}
`))

// The generator's nginx lines protect an app for real: behind them, a stranger is sent to the
// sign-in and never reaches the app, while a path the rule leaves to the app reaches it
// without the Remote-* headers the stranger forged.
func TestGeneratedNginxConfigProtectsAnApp(t *testing.T) {
	s := newStackOf(t, "", false, hosttest.ProxyListener())
	nginx := browsertest.Required(t, "nginx (Debian's nginx)", "nginx", "/usr/sbin/nginx")
	port := freePort(t)
	rule := store.ForwardRule{Name: "Wiki", Host: "wiki.example.test:" + port, Bypass: []string{"/api"}}
	if _, err := s.st.PutForwardRule(context.Background(), rule); err != nil {
		t.Fatal(err)
	}
	proxy, _ := url.Parse(s.host.Proxy.URL)
	c := forwardauth.ProxyConfigFor(rule, proxy)
	runGeneratedNginx(t, nginx, c.NginxHTTP, c.Nginx, "wiki.example.test", s.upstream.Listener.Addr().String())

	generatedConfigProtects(t, s, port)
}

// The generator's Caddy site block protects an app for real, with each Caddy: pasted as it is
// (only the app's address is this test's) after global options that keep Caddy on this machine
// (its own local certificate authority, no redirect listener on port 80, no admin endpoint).
func TestGeneratedCaddyConfigProtectsAnApp(t *testing.T) {
	eachCaddy(t, func(t *testing.T, caddy string) {
		s := newStackOf(t, "", false, hosttest.ProxyListener())
		port := freePort(t)
		rule := store.ForwardRule{Name: "Wiki", Host: "wiki.example.test:" + port, Bypass: []string{"/api"}}
		if _, err := s.st.PutForwardRule(context.Background(), rule); err != nil {
			t.Fatal(err)
		}
		proxy, _ := url.Parse(s.host.Proxy.URL)
		site := strings.ReplaceAll(forwardauth.ProxyConfigFor(rule, proxy).Caddy, forwardauth.AppAddress, s.upstream.Listener.Addr().String())
		runCaddy(t, caddy, "{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\tauto_https disable_redirects\n}\n"+site, "127.0.0.1:"+port)
		generatedConfigProtects(t, s, port)
	})
}

// generatedConfigProtects checks the app wiki.example.test on port, behind a proxy that runs
// the generator's configuration of a rule that leaves /api to the app: a stranger is sent to
// the sign-in and never reaches the app; /api reaches it without the Remote-User he forged.
func generatedConfigProtects(t *testing.T, s *stack, port string) {
	t.Helper()
	d := &net.Dialer{}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test's own certificate
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, "127.0.0.1:"+port)
			}}}
	get := func(path string) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", "https://wiki.example.test:"+port+path, nil)
		req.Header.Set("Remote-User", "owner")
		resp, err := client.Do(req)
		// Caddy issues its certificate after it listens: the handshake fails until it has one.
		for i := 0; err != nil && strings.Contains(err.Error(), "tls: internal error") && i < 100; i++ {
			time.Sleep(100 * time.Millisecond)
			resp, err = client.Do(req)
		}
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	code, body, h := get("/private")
	if code != http.StatusFound || !strings.HasPrefix(h.Get("Location"), s.auth+"/") || strings.Contains(body, `id="seen"`) {
		t.Fatalf("a stranger at /private: %d Location %q, want 302 to the sign-in at %s\n%s", code, h.Get("Location"), s.auth, body)
	}
	code, body, _ = get("/api/status")
	if code != http.StatusOK || !strings.Contains(body, "path=/api/status\nuser=\n") {
		t.Fatalf("the rule's bypass path: %d, want the app without a Remote-User\n%s", code, body)
	}
}

// runGeneratedNginx runs nginx on the generator's lines as an admin pastes them (httpLines
// once in the http block, server the app's server block), with a self-signed certificate for
// name where the lines expect certbot's and appAddr where they say the app's address.
func runGeneratedNginx(t *testing.T, nginx, httpLines, server, name, appAddr string) {
	t.Helper()
	// nginx runs as nobody under CI: the certificates must be readable by it.
	certs, err := os.MkdirTemp("", "certs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(certs) })
	writeCert(t, filepath.Join(certs, name))
	if err := filepath.Walk(certs, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	server = strings.ReplaceAll(server, forwardauth.NginxCertDir+"/", certs+"/")
	server = strings.ReplaceAll(server, forwardauth.AppAddress, appAddr)
	hosttest.Nginx(t, nginx, generatedRunConf, map[string]any{"HTTP": httpLines, "Server": server})
}
