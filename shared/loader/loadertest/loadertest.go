// Package loadertest builds plugin binaries with signed manifests for tests.
package loadertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/shared/loader"
	"github.com/plexlogin/plexlogin/shared/pluginrpc"
)

// Build compiles the Go package pkg as m.Executable into dir and writes a signed
// plugin.json there; it returns the manifest's path. race builds with -race.
func Build(dir, pkg string, m loader.Manifest, race bool) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, fmt.Sprintf("%s_%s_%s", m.Executable, runtime.GOOS, runtime.GOARCH))
	args := []string{"build", "-o", out}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w", pkg, err)
	}
	return loader.Sign(&m, dir)
}

// Manifest returns a minimal manifest for a plugin of the contract.
func Manifest(id, executable string) loader.Manifest {
	return loader.Manifest{ID: id, Type: loader.ManifestType, Name: id, Backend: true, Executable: executable,
		Info: loader.Info{Version: "test"},
		Handshake: loader.Handshake{ProtocolVersions: []int{1}, MagicCookieKey: pluginrpc.MagicCookieKey,
			MagicCookieValue: pluginrpc.MagicCookieValue}}
}

// MockEnv is the variable the mock plugin's manifest declares (the host passes it through).
const MockEnv = "MOCK_UPSTREAM_URL"

// BuildMock builds the contract's mock plugin into dir; its manifest declares MockEnv.
func BuildMock(dir string) (string, error) {
	m := Manifest("mock", "mock-source")
	m.Env = []string{MockEnv}
	return Build(dir, "github.com/plexlogin/plexlogin/shared/mock/mockplugin", m, false)
}

// BuildFromFile is Build with the manifest read from manifestFile (a tracked plugin.json).
func BuildFromFile(dir, pkg, manifestFile string) (string, error) {
	b, err := os.ReadFile(manifestFile)
	if err != nil {
		return "", err
	}
	var m loader.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("%s: %w", manifestFile, err)
	}
	return Build(dir, pkg, m, false)
}

// Main is a TestMain body: it runs build in a fresh temporary folder, then the tests,
// removes the folder and exits with the tests' code.
func Main(m *testing.M, build func(dir string) error) {
	dir, err := os.MkdirTemp("", "plugintest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// BenchStart loads the manifest's plugin b.N times and reports the start split into
// checksum, exec→handshake and first call, and the idle RSS of the last process.
func BenchStart(b *testing.B, manifest string) {
	var sum, hs, first time.Duration
	rss := 0
	for i := 0; i < b.N; i++ {
		p, err := loader.Load(manifest, loader.Options{})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if _, err := p.Describe(context.Background()); err != nil {
			b.Fatal(err)
		}
		first += time.Since(t0)
		tm := p.Timings()
		sum += tm.Checksum
		hs += tm.Handshake
		if i == b.N-1 {
			time.Sleep(200 * time.Millisecond)
			rss = RSSKiB(p.Pid())
		}
		p.Close()
	}
	n := float64(b.N)
	b.ReportMetric(float64(sum.Microseconds())/n, "checksum-µs")
	b.ReportMetric(float64(hs.Microseconds())/n, "handshake-µs")
	b.ReportMetric(float64(first.Microseconds())/n, "firstcall-µs")
	b.ReportMetric(float64(rss), "idle-rss-KiB")
}

// RSSKiB is the resident set size of a process, from /proc (0 when unknown).
func RSSKiB(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// MainBuilding runs a package's tests after building the plugin pkg, with the tracked
// manifest manifestFile, into a temporary folder; *dir is set to that plugin's folder.
func MainBuilding(m *testing.M, dir *string, pkg, manifestFile string) {
	Main(m, func(tmp string) error {
		*dir = filepath.Join(tmp, "plugin")
		_, err := BuildFromFile(*dir, pkg, manifestFile)
		return err
	})
}
