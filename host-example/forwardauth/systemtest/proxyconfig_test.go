package systemtest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
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
	{Name: "Plex Web", Host: "plexweb.example.test", Handover: "plex"},
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
