package forwardauth_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The generator writes each rule's shape: the host's port, the bridge only for a rule that
// hands a sign-in over, a word on the rest of a host for a path rule, and the proxy address
// (the default -listen when it is not known).
func TestProxyConfigForEachShape(t *testing.T) {
	proxy, _ := url.Parse("http://127.0.0.1:9091")
	whole := forwardauth.ProxyConfigFor(store.ForwardRule{Host: "Sonarr.Example.com"}, proxy)
	for _, want := range []string{"listen 443 ssl;", "server_name sonarr.example.com;", "include /etc/nginx/host-example/auth-locations.conf;",
		"include /etc/nginx/host-example/protect.conf;", "proxy_pass http://" + forwardauth.AppAddress + ";"} {
		if !strings.Contains(whole.Nginx, want) {
			t.Errorf("nginx lacks %q:\n%s", want, whole.Nginx)
		}
	}
	if strings.Contains(whole.Nginx, "plex-web-bridge") || strings.Contains(whole.Caddy, "handover") || strings.Contains(whole.Nginx, "judges every path") {
		t.Errorf("a whole-host rule without a hand-over:\n%s\n%s", whole.Nginx, whole.Caddy)
	}
	if !strings.Contains(whole.NginxHTTP, "upstream host_example_proxy { server 127.0.0.1:9091; }") ||
		!strings.Contains(whole.Caddy, "sonarr.example.com {") || !strings.Contains(whole.Caddy, "forward_auth 127.0.0.1:9091 {") {
		t.Errorf("the proxy address or the site:\n%s\n%s", whole.NginxHTTP, whole.Caddy)
	}
	path := forwardauth.ProxyConfigFor(store.ForwardRule{Host: "wiki.example.com:8443", PathPrefix: "/admin"}, nil)
	if !strings.Contains(path.Nginx, "listen 8443 ssl;") || !strings.Contains(path.Nginx, "server_name wiki.example.com;") ||
		!strings.Contains(path.Nginx, "judges every path") || !strings.Contains(path.Caddy, "wiki.example.com:8443 {") ||
		!strings.Contains(path.NginxHTTP, "server "+forwardauth.DefaultProxyAddress+";") {
		t.Errorf("a path rule on a port, proxy unknown:\n%s\n%s\n%s", path.NginxHTTP, path.Nginx, path.Caddy)
	}
	bridge := forwardauth.ProxyConfigFor(store.ForwardRule{Host: "plexweb.example.com", Handover: "plex.token"}, proxy)
	if !strings.Contains(bridge.Nginx, "include /etc/nginx/host-example/plex-web-bridge.conf;") ||
		!strings.Contains(bridge.Caddy, "rewrite * /forward-auth/handover/proxy?{query}") {
		t.Errorf("a hand-over rule lacks the bridge:\n%s\n%s", bridge.Nginx, bridge.Caddy)
	}
}
