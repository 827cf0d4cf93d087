package replicatest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
)

// nginxConf is forwardauth/systemtest's configuration (docs/forward-auth.md, docs/nginx) with
// the identity server behind an upstream of the replicas: round-robin, no stickiness. The access
// log names the replica of every request, subrequests (auth_request) included.
var nginxConf = template.Must(template.New("nginx").Parse(`
worker_processes 1;
daemon off;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log info;
events { worker_connections 1024; }
http {
  log_format replicas '$msec $host "$request" $status upstream="$upstream_addr" upstream_status="$upstream_status"';
  access_log {{.Dir}}/access.log replicas;
  log_subrequest on;
  client_body_temp_path {{.Dir}}/tmp/body;
  proxy_temp_path {{.Dir}}/tmp/proxy;
  fastcgi_temp_path {{.Dir}}/tmp/fastcgi;
  uwsgi_temp_path {{.Dir}}/tmp/uwsgi;
  scgi_temp_path {{.Dir}}/tmp/scgi;

  upstream hosts {
{{range .Replicas}}    server {{.}};
{{end}}  }
  # The proxy-only paths, asked on the same replicas (docs/scale.md).
  upstream host_example_proxy {
{{range .Replicas}}    server {{.}};
{{end}}  }

  include {{.Snippets}}/http.conf;

  # The identity server, the default server of its socket (a load tool may name 127.0.0.1).
  server {
    listen 127.0.0.1:{{.Port}} default_server;
    server_name auth.example.test;
    location / {
      proxy_pass http://hosts;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }

  # A protected app: docs/nginx's files, included as they are.
  server {
    listen 127.0.0.1:{{.Port}};
    server_name app.example.test;
    include {{.Snippets}}/auth-locations.conf;
    location / {
      include {{.Snippets}}/protect.conf;
      proxy_pass http://{{.App}};
    }
  }
}
`))

// nginx is the running nginx and its folder.
type nginx struct {
	dir string
}

// startNginx writes the configuration and runs nginx on port (as nobody when the test runs
// as root, as in CI); it stops when the test ends.
func startNginx(t *testing.T, port, app string, replicas []string) *nginx {
	t.Helper()
	bin := browsertest.Required(t, "nginx (Debian's nginx)", "nginx", "/usr/sbin/nginx")
	dir := hosttest.Nginx(t, bin, nginxConf, map[string]any{"Port": port, "App": app, "Replicas": replicas})
	n := &nginx{dir: dir}
	return n
}

// logEntry is one line of the access log.
type logEntry struct {
	host, request, status string
	// upstreams are the replicas nginx tried, in order (more than one: it retried).
	upstreams []string
	// upstreamStatus is the status each of them answered ("502" for a failed attempt).
	upstreamStatus []string
}

// mark is the access log's size now: entries after it are what happened since.
func (n *nginx) mark(t *testing.T) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(n.dir, "access.log"))
	if err != nil {
		if os.IsNotExist(err) {
			return 0
		}
		t.Fatal(err)
	}
	return fi.Size()
}

// entries are the access log's lines written after mark.
func (n *nginx) entries(t *testing.T, mark int64) []logEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(n.dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(mark, 0); err != nil {
		t.Fatal(err)
	}
	var out []logEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := logLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		out = append(out, logEntry{host: m[2], request: m[3], status: m[4], upstreams: splitList(m[5]), upstreamStatus: splitList(m[6])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// logLine is the replicas log format: msec, host, request, status, upstreams, their statuses.
var logLine = regexp.MustCompile(`^(\S+) (\S+) "(.*)" (\d+) upstream="([^"]*)" upstream_status="([^"]*)"$`)

// splitList splits nginx's lists ("a, b" for each upstream tried; "a : b" across an
// internal redirect); "-" is none.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(strings.ReplaceAll(s, " : ", ", "), ",") {
		if f = strings.TrimSpace(f); f != "" && f != "-" {
			out = append(out, f)
		}
	}
	return out
}
