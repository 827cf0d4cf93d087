// Package buildinfo is what this build of host-example is: its version, its commit and the Go
// release it was built with. scripts/build stamps the version and commit with -ldflags -X
// from git describe; a build without the stamp falls back on what Go recorded (the module
// version of `go install …@vX`, the VCS revision of a build in a checkout), else "devel".
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set by scripts/build: -X github.com/plexlogin/plexlogin/host-example/buildinfo.version=…
// (and .revision=…).
var version, revision string

// Info is a build's identity.
type Info struct {
	Version   string // git describe (v1.2.3, v1.2.3-4-gabcdef0, abcdef0[-dirty]), else "devel"
	Revision  string // the full commit hash, "unknown" when not recorded
	GoVersion string // the Go release the binary was built with
}

// Get is this binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, revision, bi)
}

// resolve is the Info of a stamped version and revision, completed from Go's build info.
func resolve(version, revision string, bi *debug.BuildInfo) Info {
	in := Info{Version: version, Revision: revision, GoVersion: runtime.Version()}
	if bi != nil {
		if bi.GoVersion != "" {
			in.GoVersion = bi.GoVersion
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Revision == "" {
					in.Revision = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		if in.Version == "" && revision == "" && in.Revision != "" {
			in.Version = short(in.Revision)
			if modified {
				in.Version += "-dirty"
			}
		}
	}
	if in.Version == "" {
		in.Version = "devel"
	}
	if in.Revision == "" {
		in.Revision = "unknown"
	}
	return in
}

// short is a commit hash's first 12 characters.
func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// String is the one line `host-example version` prints.
func (in Info) String() string {
	return "host-example " + in.Version + " (commit " + in.Revision + ", " + in.GoVersion + ")"
}
