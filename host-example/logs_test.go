package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/buildinfo"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
)

// With -log-format json every line the server writes is a JSON object, the start banner and
// the first-start setup link too; a SIGTERM to its whole process group (a service manager's
// stop, which reaches the plugin as well) is a clean stop: exit 0, nothing at error.
func TestJSONLogsEveryLineAndACleanStop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs host-example")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "host-example")
	// Stamped as scripts/build stamps it, so the version the server reports is known.
	const pkg = "github.com/plexlogin/plexlogin/host-example/buildinfo"
	bi := buildinfo.Info{Version: "v0.0.0-logtest", Revision: "0123abcd", GoVersion: runtime.Version()}
	ldflags := "-X " + pkg + ".version=" + bi.Version + " -X " + pkg + ".revision=" + bi.Revision
	if out, err := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	plugins := filepath.Join(dir, "plugins")
	if _, err := loadertest.BuildMock(plugins); err != nil {
		t.Fatal(err)
	}
	listen, metricsAt := "127.0.0.1:"+hosttest.FreePort(t), "127.0.0.1:"+hosttest.FreePort(t)
	cmd := exec.Command(exe)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOST_LISTEN="+listen, "HOST_DATA_DIR="+filepath.Join(dir, "data"), "HOST_PLUGINS_DIR="+plugins,
		"HOST_LOG_FORMAT=json", "HOST_LOG_LEVEL=debug", "HOST_ADMIN_PASSWORD=", "HOST_ADMIN_PASSWORD_FILE=", "HOST_DATABASE=",
		"HOST_METRICS_LISTEN="+metricsAt, "HOST_FORWARD_AUTH_LISTEN=127.0.0.1:"+hosttest.FreePort(t))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get("http://" + listen + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("host-example ended: %v\n%s%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready:\n%s%s", stdout.String(), stderr.String())
		}
	}
	// The metrics name the build and the plugin's version (its manifest's).
	res, err := http.Get("http://" + metricsAt + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scraped, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`hostexample_plugin_info{plugin="mock",version="test"} 1`,
		fmt.Sprintf(`hostexample_build_info{goversion=%q,revision=%q,version=%q} 1`, bi.GoVersion, bi.Revision, bi.Version)} {
		if !strings.Contains(string(scraped), want) {
			t.Errorf("the metrics do not say %s", want)
		}
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("a SIGTERM stop exits with %v, want 0\n%s", err, stderr.String())
	}
	messages := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(stdout.String() + stderr.String()))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("not a JSON line: %q", sc.Text())
			continue
		}
		if line["@level"] == "error" {
			t.Errorf("an error on a clean stop: %s", sc.Text())
		}
		messages[line["@message"].(string)] = line
	}
	setup := messages["first start: set the admin password"]
	if u, _ := setup["url"].(string); !strings.HasPrefix(u, "http://"+listen+"/setup?token=") {
		t.Errorf("the setup link is not a JSON line with its url: %v", setup)
	}
	if s := messages["serving"]; s["version"] != bi.Version || s["revision"] != bi.Revision || s["login_page"] != "http://"+listen+"/login" {
		t.Errorf("the serving line: %v", s)
	}
	for _, want := range []string{"metrics", "proxy-only paths (forward-auth)", "plugin process exited", "stopped"} {
		if messages[want] == nil {
			t.Errorf("no %q line in:\n%s%s", want, stdout.String(), stderr.String())
		}
	}
	if l := messages["plugin process exited"]; l != nil && l["@level"] != "info" {
		t.Errorf("the plugin's stop: %v", l)
	}
}
