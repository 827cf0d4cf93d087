package forwardauth

import (
	"net"
	"net/url"
	"strings"
	"text/template"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The configurations a reverse proxy needs to protect one rule's app, as docs/forward-auth.md
// gives them: nginx with docs/nginx's include files, and Caddy's site block. The admin's rule
// page shows them; the system tests feed them to the real nginx and Caddy.

// Where ProxyConfig's nginx lines expect things on the proxy's machine: docs/nginx's files,
// and the app's certificate (certbot's folder for the host).
const (
	NginxSnippetDir = "/etc/nginx/host-example"
	NginxCertDir    = "/etc/letsencrypt/live"
	// AppAddress stands for the app's own address, which host-example does not know.
	AppAddress = "127.0.0.1:8989"
	// DefaultProxyAddress is host-example's default -listen, for when the proxy address is unknown.
	DefaultProxyAddress = "127.0.0.1:8080"
)

// ProxyConfig is the proxy configuration for one rule: nginx's lines for the http block (once
// for every app), nginx's server block, and Caddy's site block.
type ProxyConfig struct {
	NginxHTTP, Nginx, Caddy string
	// App stands in them for the app's own address (AppAddress).
	App string
}

// ProxyConfigFor writes the proxy configuration of rule; proxy is where the proxy asks the
// proxy-only paths (Config.ProxyURL: the forward-auth listener, else host-example's own; nil:
// the default -listen).
func ProxyConfigFor(rule store.ForwardRule, proxy *url.URL) ProxyConfig {
	addr := DefaultProxyAddress
	if proxy != nil && proxy.Host != "" {
		addr = proxy.Host
	}
	host := NormalizeHost(rule.Host)
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		name, port = host, "443"
	}
	name = strings.Trim(name, "[]")
	data := map[string]any{"Rule": rule, "Proxy": addr, "Site": host, "Name": name, "Port": port,
		"App": AppAddress, "Snippets": NginxSnippetDir, "Certs": NginxCertDir, "Whole": rule.PathPrefix == "" || rule.PathPrefix == "/"}
	return ProxyConfig{NginxHTTP: run(nginxHTTP, data), Nginx: run(nginxServer, data), Caddy: run(caddySite, data), App: AppAddress}
}

func run(t *template.Template, data any) string {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		panic("forwardauth: proxy config template: " + err.Error()) // the templates are fixed
	}
	return b.String()
}

var nginxHTTP = template.Must(template.New("http").Parse(`# once, in the http block, for every protected app
include {{.Snippets}}/http.conf;
upstream host_example_proxy { server {{.Proxy}}; }   # where nginx asks host-example
`))

var nginxServer = template.Must(template.New("server").Parse(`# {{with .Rule.Name}}{{.}}: {{end}}{{.Rule.Host}}{{.Rule.PathPrefix}}
server {
  listen {{.Port}} ssl;
  server_name {{.Name}};
  ssl_certificate {{.Certs}}/{{.Name}}/fullchain.pem;
  ssl_certificate_key {{.Certs}}/{{.Name}}/privkey.pem;
  include {{.Snippets}}/auth-locations.conf;
{{- if .Rule.Handover}}
  include {{.Snippets}}/plex-web-bridge.conf;   # signs people into the app here
{{- end}}
{{- if not .Whole}}
  # host-example judges every path of this host: a path no rule of this host covers is refused
{{- end}}
  location / {
    include {{.Snippets}}/protect.conf;
    proxy_pass http://{{.App}};   # your app's address
  }
}
`))

var caddySite = template.Must(template.New("caddy").Parse(`# {{with .Rule.Name}}{{.}}: {{end}}{{.Rule.Host}}{{.Rule.PathPrefix}}
{{.Site}} {
{{- if not .Whole}}
  # host-example judges every path of this host: a path no rule of this host covers is refused
{{- end}}
{{- if .Rule.Handover}}
  handle /.host-example/handover {   # signs people into the app here
    rewrite * /forward-auth/handover/proxy?{query}
    reverse_proxy {{.Proxy}}
  }
{{- end}}
  handle {
    forward_auth {{.Proxy}} {
      uri /forward-auth/caddy
      copy_headers Remote-User Remote-Name Remote-Email Remote-Groups Remote-Id
    }
    reverse_proxy {{.App}} {   # your app's address
      # the app never sees the forward-auth cookie
      header_up Cookie "(^|;\s*)(__Secure-)?hx_forward=[^;]*(;\s*)?" "$1"
    }
  }
}
`))
