package containertest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// nativeImage loads this machine's platform's archive and answers its image ID (scripts/image's
// images file).
func nativeImage(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "linux/"+runtime.GOARCH {
			// Load the archive (a no-op when scripts/image left it in the store): what is run is what was listed.
			podman(t, "load", "-q", "-i", filepath.Join(dir, "host-example-linux-"+runtime.GOARCH+".tar"))
			return f[1]
		}
	}
	t.Fatalf("no linux/%s image in %s", runtime.GOARCH, dir)
	return ""
}

// TestContainerSignInSurvivesARestart runs the image read-only (no tmpfs: a plugin that cannot
// start fails it) with the simulated plex.tv outside; a person signs in through the
// container's pages; the container stops (SIGTERM, exit 0) and starts again, and the person's
// session and the volume's data are still there; the files in the volume are 65532's. One
// person signs in in Chromium, another in hosttest.Browser.
func TestContainerSignInSurvivesARestart(t *testing.T) {
	dir := needImages(t)
	image := nativeImage(t, dir)

	// The simulator, on loopback outside the container (the container shares the host's network).
	sim := plexsim.New(plexsim.DefaultWorld())
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	// "localhost", as plexsim.Serve names it: another site than the host's 127.0.0.1, so their
	// cookies stay apart in Chromium.
	_, simPort, _ := net.SplitHostPort(srv.Listener.Addr().String())
	simURL := "http://localhost:" + simPort
	sim.SetPublicURL(simURL)

	config := t.TempDir()
	bootstrap := fmt.Sprintf(`[{"plugin": "plex", "slug": "plex", "name": "Plex", "enabled": true, "config": {
  "access_mode": "members", "owner_token": %q, "password_login": true,
  "allowed_servers": [{"machine_id": %q, "name": "Living Room"}, {"machine_id": %q, "name": "Cabin"}]}}]`,
		sim.Token("owner"), plexsim.ServerLivingRoom, plexsim.ServerCabin)
	if err := os.WriteFile(filepath.Join(config, "bootstrap.json"), []byte(bootstrap), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(config, 0o755); err != nil {
		t.Fatal(err)
	}

	name := fmt.Sprintf("hostexample-test-%d", os.Getpid())
	volume := name + "-data"
	podman(t, "volume", "create", volume)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := tryPodman("logs", name)
			t.Logf("container logs:\n%s", logs)
		}
		_, _ = tryPodman("rm", "-f", "-t", "0", name)
		_, _ = tryPodman("volume", "rm", "-f", volume)
	})
	addr := "127.0.0.1:" + hosttest.FreePort(t)
	base := "http://" + addr
	args := append([]string{"run", "-d", "--name", name, "--read-only", "--read-only-tmpfs=false"}, runFlags...)
	args = append(args,
		"-v", volume+":/data", "-v", config+":/config:ro",
		"-e", "HOST_LISTEN="+addr, "-e", "HOST_BOOTSTRAP=/config/bootstrap.json",
		"-e", "HOST_ADMIN_PASSWORD="+hosttest.AdminPassword,
		"-e", "PLEX_TV_URL="+simURL, "-e", "PLEX_APP_URL="+simURL,
		image)
	podman(t, args...)
	waitHealthy(t, name, base)

	var inspect []struct {
		Config struct{ User string }
		Mounts []struct{ Destination string }
	}
	if err := json.Unmarshal([]byte(podman(t, "container", "inspect", name)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("inspect: %v", err)
	}
	if inspect[0].Config.User != "65532:65532" {
		t.Errorf("runs as %q, want 65532:65532", inspect[0].Config.User)
	}
	for _, m := range inspect[0].Mounts {
		if m.Destination != "/data" && m.Destination != "/config" {
			t.Errorf("mounted at %s: want only the volume and the config (no tmpfs)", m.Destination)
		}
	}

	// A person signs in in Chromium, through the container's pages and the simulator's.
	ctx := browsertest.New(t)
	browsertest.Steps(t, ctx, "sign in as friend", append(append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/login"), browsertest.Click("#login-plex")},
		browsertest.ApproveAs("friend")...), browsertest.Visible("#portal-hello, #message"),
		chromedp.Navigate(base+"/profile"), browsertest.Visible("#profile, #message"))...)
	if s := browsertest.Text(t, ctx, "main"); !strings.Contains(s, "Frank Friend") {
		t.Fatalf("after the sign-in: %q", s)
	}
	// And one in the tests' browser without JavaScript, whose session is checked as well.
	b := hosttest.NewBrowser(t, base, hosttest.Upstream{Sim: sim, URL: simURL})
	if p := b.Login("plex", "homemember"); p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("sign-in through the container: %d %s %.300s", p.Status, p.Location, p.Body)
	}

	podman(t, "stop", "-t", "20", name)
	if code := podman(t, "container", "inspect", "--format", "{{.State.ExitCode}}", name); code != "0" {
		t.Errorf("stopped with exit code %s, want 0 (a clean stop on SIGTERM)", code)
	}
	podman(t, "start", name)
	waitHealthy(t, name, base)
	browsertest.Steps(t, ctx, "the profile after the restart", chromedp.Navigate(base+"/profile"), browsertest.Visible("#profile, #message, form"))
	if s := browsertest.Text(t, ctx, "main"); !strings.Contains(s, "Frank Friend") {
		t.Fatalf("the session in Chromium did not survive the restart: %q", s)
	}
	if p := b.Get("/profile"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Hilda Home") {
		t.Fatalf("the session did not survive the restart: %d %s %.300s", p.Status, p.Location, p.Body)
	}
	b.AdminLogin(hosttest.AdminPassword)

	// The volume holds the store, owned by the container's user 65532, and the private TMPDIR.
	mount := podman(t, "volume", "inspect", "--format", "{{.Mountpoint}}", volume)
	for _, f := range []string{"host.db", "secret.key", "tmp"} {
		fi, err := os.Stat(filepath.Join(mount, f))
		if err != nil {
			t.Errorf("the volume lacks %s: %v", f, err)
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && (st.Uid != 65532 || st.Gid != 65532) {
			t.Errorf("%s belongs to %d:%d, want 65532:65532", f, st.Uid, st.Gid)
		}
		if f == "tmp" && fi.Mode().Perm() != 0o700 {
			t.Errorf("TMPDIR /data/tmp is %v, want 0700", fi.Mode().Perm())
		}
	}
}

// waitHealthy waits until the container's own HEALTHCHECK (host-example healthcheck, run by
// podman healthcheck run) passes and its pages answer on base. podman schedules its periodic
// healthchecks with systemd timers, which this sandbox lacks (it logs "unable to get systemd
// connection" and runs the container all the same): the test runs the check itself.
func waitHealthy(t *testing.T, name, base string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if state := podman(t, "container", "inspect", "--format", "{{.State.Status}}", name); state == "exited" {
			t.Fatalf("the container exited")
		}
		if _, err := tryPodman("healthcheck", "run", name); err != nil {
			last = err
			time.Sleep(500 * time.Millisecond)
			continue
		}
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{}).DialContext}}
		res, err := c.Get(base + "/login")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("/login: %s", res.Status)
		}
		last = err
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("the container did not become healthy: %v", last)
}
