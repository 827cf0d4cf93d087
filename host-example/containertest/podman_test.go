package containertest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// runtimeFlags are podman's flags for running a container on these machines (the CI
// sandbox): crun refuses the sandbox's rlimits and its hybrid cgroups, so runc with cgroupfs;
// the host's network namespace, so the container reaches the simulator on loopback. Users'
// machines need none of them (docs/container.md does not name them).
var runtimeFlags = []string{"--runtime", "runc", "--cgroup-manager=cgroupfs"}

// runFlags are podman run's flags on these machines: the sandbox's own limits are lower than
// podman's defaults, which it cannot raise.
var runFlags = []string{"--network", "host", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"}

// images is the build of scripts/image this run uses: the folder HOSTEXAMPLE_IMAGES names
// (scripts/test builds it once per run), else one built here once for the package.
var images struct {
	once   sync.Once
	dir    string
	reason string // why there is none
}

// needImages answers the folder of the image archives, or skips the test saying why; under
// CI=1, where .ci/run installs podman, a machine that cannot build or run them fails it.
func needImages(t *testing.T) string {
	t.Helper()
	images.once.Do(func() {
		if _, err := exec.LookPath("podman"); err != nil {
			images.reason = "podman is not installed (apt-get install podman runc): " + err.Error()
			return
		}
		if out, err := exec.Command("podman", append(runtimeFlags, "info")...).CombinedOutput(); err != nil {
			images.reason = fmt.Sprintf("podman cannot run here: podman info: %v: %s", err, out)
			return
		}
		if dir := os.Getenv("HOSTEXAMPLE_IMAGES"); dir != "" {
			images.dir = dir
			return
		}
		dir, err := os.MkdirTemp("", "hostexample-images-")
		if err != nil {
			images.reason = err.Error()
			return
		}
		cmd := exec.Command(filepath.Join(moduleRoot(), "scripts", "image"), dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			images.reason = fmt.Sprintf("scripts/image: %v: %s", err, out)
			return
		}
		images.dir = dir
	})
	if images.dir == "" {
		if os.Getenv("CI") == "1" {
			t.Fatalf("CI=1 and no container image: %s", images.reason)
		}
		t.Skip(images.reason)
	}
	return images.dir
}

// podman runs podman with args and answers its standard output, failing the test on an error.
func podman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := tryPodman(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tryPodman runs podman with args; the error holds its standard error.
func tryPodman(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("podman", append(append([]string{}, runtimeFlags...), args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// moduleRoot is the folder of go.mod above the working directory.
func moduleRoot() string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic(errors.New("no go.mod above the working directory"))
		}
		dir = parent
	}
}

// TestMain removes the images this package built for itself (none when scripts/test gave them).
func TestMain(m *testing.M) {
	code := m.Run()
	if images.dir != "" && os.Getenv("HOSTEXAMPLE_IMAGES") == "" {
		os.RemoveAll(images.dir)
	}
	os.Exit(code)
}
