// Package loadertest builds plugin binaries with signed manifests for tests.
package loadertest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

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
	return loader.WriteSigned(&m, dir)
}

// Manifest returns a minimal manifest for a plugin of the contract.
func Manifest(id, executable string) loader.Manifest {
	return loader.Manifest{ID: id, Type: loader.ManifestType, Name: id, Backend: true, Executable: executable,
		Info: loader.Info{Version: "test"},
		Handshake: loader.Handshake{ProtocolVersions: []int{1}, MagicCookieKey: pluginrpc.MagicCookieKey,
			MagicCookieValue: pluginrpc.MagicCookieValue}}
}

// BuildMock builds the contract's mock plugin into dir.
func BuildMock(dir string) (string, error) {
	return Build(dir, "github.com/plexlogin/plexlogin/shared/mock/mockplugin", Manifest("mock", "mock-source"), false)
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
