package systemtest_test

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Helpers shared by the tests with a real proxy (nginx, Caddy).

// newEchoApp is an upstream app that shows the path, the Remote-* headers, the cookies, the Host
// and the X-Forwarded-Proto, -For and -Host it receives.
func newEchoApp(t *testing.T) *httptest.Server {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>app</title><pre id="seen">path=%s
user=%s
name=%s
email=%s
groups=%s
id=%s
cookie=%s
host=%s
proto=%s
forwarded-for=%s
forwarded-host=%s
</pre>`, r.URL.RequestURI(), r.Header.Get("Remote-User"), r.Header.Get("Remote-Name"), r.Header.Get("Remote-Email"),
			r.Header.Get("Remote-Groups"), r.Header.Get("Remote-Id"), html.EscapeString(r.Header.Get("Cookie")),
			html.EscapeString(r.Host), html.EscapeString(r.Header.Get("X-Forwarded-Proto")), html.EscapeString(strings.Join(r.Header.Values("X-Forwarded-For"), ", ")),
			html.EscapeString(r.Header.Get("X-Forwarded-Host")))
	}))
	t.Cleanup(app.Close)
	return app
}

// unprivileged makes cmd run as nobody when the test runs as root (CI), owning paths.
func unprivileged(t *testing.T, cmd *exec.Cmd, paths ...string) {
	if os.Geteuid() != 0 {
		return
	}
	const nobody = 65534
	for _, root := range paths {
		err := filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Chown(p, nobody, nobody)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
}

// reachable is bin where a process that unprivileged starts can run it: bin itself when every
// folder above it is open to others, else (a cache under root's home, in CI) a hard link to
// it in dir, or a copy across file systems. Call it after unprivileged, which would chown a link.
func reachable(t *testing.T, bin, dir string) string {
	if os.Geteuid() != 0 {
		return bin
	}
	open := true
	for d := filepath.Dir(bin); open && d != filepath.Dir(d); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		open = err == nil && fi.Mode().Perm()&0o001 != 0
	}
	if open {
		return bin
	}
	to := filepath.Join(dir, filepath.Base(bin))
	if os.Link(bin, to) == nil {
		return to
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return to
}

// waitListening waits until something accepts on addr; log tells what went wrong otherwise.
func waitListening(t *testing.T, addr string, exited <-chan struct{}, log func() string) {
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("the proxy exited: %s", log())
		default:
		}
		if i == 200 {
			t.Fatalf("nothing listens on %s: %s", addr, log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rawRequest sends req (an HTTP/1.1 request as text, lines joined by \r\n) to addr as it is,
// so a request line or a Host header that a Go client refuses to send can be sent.
func rawRequest(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(strings.ReplaceAll(req, "\n", "\r\n"))); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", req, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
