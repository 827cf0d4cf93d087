package buildinfo

import (
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// A stamped build says what scripts/build stamped; an unstamped one what Go recorded; a
// build with neither says "devel", never an empty version.
func TestResolve(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	vcs := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}}
	for _, c := range []struct {
		name, version, revision string
		bi                      *debug.BuildInfo
		want                    Info
	}{
		{"stamped", "v1.2.0-3-gabc", "abc123", vcs, Info{"v1.2.0-3-gabc", "abc123", "go1.99"}},
		{"from the checkout", "", "", vcs, Info{"0123456789ab-dirty", rev, "go1.99"}},
		{"go install @version", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, Info{"v1.4.0", "unknown", runtime.Version()}},
		{"nothing recorded", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, Info{"devel", "unknown", runtime.Version()}},
		{"no build info", "", "", nil, Info{"devel", "unknown", runtime.Version()}},
	} {
		if got := resolve(c.version, c.revision, c.bi); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// The -X flags scripts/build passes reach these variables: a binary built with them reports
// them (a renamed variable or package would silently drop the stamp).
func TestStampedByLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	const pkg = "github.com/plexlogin/plexlogin/host-example/buildinfo"
	out, err := exec.Command("go", "run", "-ldflags", "-X "+pkg+".version=v9.9.9-test -X "+pkg+".revision=feedface", "./testdata/stamp").CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	if want := "host-example v9.9.9-test (commit feedface, " + runtime.Version() + ")"; string(out) != want {
		t.Fatalf("stamped binary says %q, want %q", out, want)
	}
}

// scripts/build and scripts/image stamp the variables this package reads, with the flags of
// scripts/buildflags.
func TestScriptsBuildStampsThisPackage(t *testing.T) {
	b, err := os.ReadFile("../../scripts/buildflags")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"buildinfo_pkg=github.com/plexlogin/plexlogin/host-example/buildinfo", "-X $buildinfo_pkg.version=", "-X $buildinfo_pkg.revision=", "git describe --tags --always --dirty"} {
		if !strings.Contains(s, want) {
			t.Errorf("scripts/buildflags does not say %q", want)
		}
	}
	for _, script := range []string{"build", "image"} {
		b, err := os.ReadFile("../../scripts/" + script)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "source scripts/buildflags") || !strings.Contains(string(b), `go build "${goflags[@]}"`) {
			t.Errorf("scripts/%s does not build with scripts/buildflags' goflags", script)
		}
	}
}
