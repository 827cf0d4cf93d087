package main

import (
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/buildinfo"
)

// runCLI runs host-example with args in an empty working directory and answers the exit
// code, stdout and stderr; it fails the test if anything was written into the directory
// (serve's default -data is ./data).
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	var out, errOut strings.Builder
	code := run(args, strings.NewReader("a-new-password\n"), &out, &errOut)
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("%q left %v in the working directory", args, left[0].Name())
	}
	return code, out.String(), errOut.String()
}

// A typo never starts anything: an unknown command, an unknown flag or a stray argument of
// every command prints the usage and exits 2, and writes nothing (no ./data).
func TestEveryCommandRefusesATypo(t *testing.T) {
	// Were serve to start after all, it stops at its plugins folder (exit 1), before it
	// listens or makes a data folder.
	t.Setenv("HOST_PLUGINS_DIR", "no-such-plugins-folder")
	t.Setenv("HOST_LISTEN", "127.0.0.1:0")
	t.Setenv("HOST_ADMIN_PASSWORD", "")
	t.Setenv("HOST_DATABASE", "")
	refused := func(args ...string) {
		t.Helper()
		code, out, errOut := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d (stdout %q, stderr %q)", args, code, exitUsage, out, errOut)
		}
		if !strings.Contains(errOut, "host-example") {
			t.Errorf("%q: stderr says nothing: %q", args, errOut)
		}
	}
	for _, typo := range []string{"version", "versoin", "serv", "backups", "help-me", "healthchek", "reset-password", "start"} {
		if _, ok := commands[typo]; ok || typo == "version" {
			continue
		}
		refused(typo)
		code, _, errOut := runCLI(t, typo)
		if code != exitUsage || !strings.Contains(errOut, "unknown command") || !strings.Contains(errOut, "host-example [serve] [flags]") {
			t.Errorf("%q: exit %d, stderr %q: want unknown command and the usage", typo, code, errOut)
		}
	}
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		refused(name, "-no-such-flag")
		refused(name, "stray-word")
		refused(name, "-h-", "x")
	}
	// serve is also the default: its flags without the word, then a stray one.
	refused("-listen", "127.0.0.1:0", "stray-word")
	refused("-listne", "127.0.0.1:0")
	refused("-version", "stray-word")
	refused("--", "stray-word")
	// A required flag that is missing is a command line not understood, too.
	refused("backup")
	refused("export-key")
	refused("restore", "-backup", "b")
	refused("copy-store", "-from", "x")
	refused("reset-admin-password", "-public-url", "id.example.test")
	refused("healthcheck", "-listen", "no-port")
}

// version and -version print the version, the commit and the Go release, and start nothing.
func TestVersion(t *testing.T) {
	in := buildinfo.Get()
	for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%q: exit %d, stderr %q", args, code, errOut)
		}
		for _, want := range []string{in.Version, in.Revision, runtime.Version()} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: %q does not say %q", args, out, want)
			}
		}
	}
	if code, out, _ := runCLI(t, "help"); code != 0 || !strings.Contains(out, "host-example version") {
		t.Errorf("help: exit %d, %q", code, out)
	}
	for _, args := range [][]string{{"-h"}, {"version", "-h"}, {"backup", "-h"}} {
		if code, _, _ := runCLI(t, args...); code != 0 {
			t.Errorf("%q: exit %d, want 0", args, code)
		}
	}
}
