package hosttest

import (
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// Nginx starts the nginx binary bin on the configuration conf renders with data (data["Dir"]
// is set to nginx's own folder, for its paths; data["Snippets"] to a folder holding the files
// of docs/nginx as they are, for its include lines), unprivileged: as nobody in a folder of
// its own when the test runs as root (CI). It answers the folder (error.log, the access
// logs); nginx stops when the test ends, or with the test binary, and its error log is shown
// when the test failed.
func Nginx(t testing.TB, bin string, conf *template.Template, data map[string]any) string {
	t.Helper()
	dir, confPath, snippets := nginxFolder(t, conf, data)
	errorLog := filepath.Join(dir, "error.log")
	cmd := osexec.Command(bin, "-p", dir, "-c", confPath, "-e", errorLog)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() == 0 {
		const nobody = 65534
		owned := []string{dir, filepath.Join(dir, "tmp"), filepath.Join(dir, "logs"), confPath, snippets}
		files, _ := filepath.Glob(filepath.Join(snippets, "*"))
		for _, p := range append(owned, files...) {
			if err := os.Chown(p, nobody, nobody); err != nil {
				t.Fatal(err)
			}
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(errorLog)
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("nginx error.log:\n%s", b)
		}
	})
	// nginx writes its pid file once its sockets are bound: a listener that answers on the
	// port before that is not this nginx.
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(dir, "nginx.pid")); err == nil {
			return dir
		}
		if i == 200 {
			b, _ := os.ReadFile(errorLog)
			t.Fatalf("nginx did not start: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// NginxTest runs nginx -t on the configuration conf renders with data (Dir and Snippets as
// Nginx sets them), as the test's own user (nginx binds nothing and starts no worker for it),
// and answers nginx's output.
func NginxTest(t testing.TB, bin string, conf *template.Template, data map[string]any) (string, error) {
	t.Helper()
	dir, confPath, _ := nginxFolder(t, conf, data)
	out, err := osexec.Command(bin, "-t", "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log")).CombinedOutput()
	return string(out), err
}

// nginxFolder makes nginx's folder (tmp, logs, docs/nginx's files) and writes the configuration
// conf renders with data (setting data["Dir"] and data["Snippets"]) in it; it answers the folder,
// the configuration's path and the files' folder.
func nginxFolder(t testing.TB, conf *template.Template, data map[string]any) (dir, confPath, snippets string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "nginx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	data["Dir"] = dir
	snippets, err = nginxSnippets(dir)
	if err != nil {
		t.Fatal(err)
	}
	data["Snippets"] = snippets
	var text strings.Builder
	if err := conf.Execute(&text, data); err != nil {
		t.Fatal(err)
	}
	confPath = filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, confPath, snippets
}

// nginxSnippets copies docs/nginx's include files, byte for byte, into dir/host-example (a
// folder nginx can read when it runs as nobody) and answers that folder.
func nginxSnippets(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	files, err := filepath.Glob(filepath.Join(root, "docs", "nginx", "*.conf"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("docs/nginx/*.conf: none found (%v)", err)
	}
	to := filepath.Join(dir, "host-example")
	if err := os.Mkdir(to, 0o700); err != nil {
		return "", err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), b, 0o600); err != nil {
			return "", err
		}
	}
	return to, nil
}
