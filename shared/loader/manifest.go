// Package loader is the host side of the plugin runtime: it reads a plugin's
// manifest, verifies the executable's checksum, starts it with a filtered
// environment, and restarts it when it dies.
package loader

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
)

// ManifestType is the manifest "type" of a federated-source plugin.
const ManifestType = "federated-source"

// Manifest is a plugin.json, with Grafana's field names plus handshake, capabilities and checksums.
type Manifest struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Name         string    `json:"name"`
	Info         Info      `json:"info"`
	Backend      bool      `json:"backend"`
	Executable   string    `json:"executable"`
	Handshake    Handshake `json:"handshake"`
	Capabilities []string  `json:"capabilities"`
	// Env names the host environment variables the plugin may receive besides the loader's
	// own (DefaultEnvAllowList); each is under the plugin's prefix (EnvPrefix).
	Env       []string          `json:"env,omitempty"`
	Checksums map[string]string `json:"checksums,omitempty"`

	// Dir is the folder the manifest was read from.
	Dir string `json:"-"`
}

// Info is the descriptive part of a manifest.
type Info struct {
	Version     string            `json:"version"`
	Description string            `json:"description"`
	Author      map[string]string `json:"author"`
	Logos       map[string]string `json:"logos"`
	Links       []Link            `json:"links"`
	Updated     string            `json:"updated"`
}

// Link is a named URL.
type Link struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Handshake is what a host needs to launch the plugin.
type Handshake struct {
	ProtocolVersions []int  `json:"protocolVersions"`
	MagicCookieKey   string `json:"magicCookieKey"`
	MagicCookieValue string `json:"magicCookieValue"`
}

var checksumRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ReadManifest reads and checks the manifest at path; a manifest other users may write is refused.
func ReadManifest(path string) (*Manifest, error) {
	if err := notWritableByOthers(path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	m.Dir = filepath.Dir(path)
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	return &m, nil
}

func (m *Manifest) check() error {
	switch {
	case m.ID == "":
		return fmt.Errorf("id is missing")
	case m.Type != ManifestType:
		return fmt.Errorf("type is %q, want %q", m.Type, ManifestType)
	case !m.Backend || m.Executable == "":
		return fmt.Errorf("backend executable is missing")
	case m.Executable != filepath.Base(m.Executable) || strings.ContainsAny(m.Executable, `/\:`) || strings.HasPrefix(m.Executable, "."):
		return fmt.Errorf("executable %q must be a bare file name in the plugin's folder", m.Executable)
	case len(m.Handshake.ProtocolVersions) == 0 || m.Handshake.MagicCookieKey == "" || m.Handshake.MagicCookieValue == "":
		return fmt.Errorf("handshake is incomplete")
	}
	return m.checkEnv()
}

// envNameRE is a portable environment variable name.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// EnvPrefix is the prefix every variable a plugin declares must have: its upper-cased id and "_".
func (m *Manifest) EnvPrefix() string { return strings.ToUpper(m.ID) + "_" }

// checkEnv refuses a declared variable that is not a valid name, is not under the plugin's
// prefix, or belongs to the host or the loader.
func (m *Manifest) checkEnv() error {
	prefix := m.EnvPrefix()
	seen := map[string]bool{}
	for _, name := range m.Env {
		switch {
		case !envNameRE.MatchString(name):
			return fmt.Errorf("env: %q is not a valid environment variable name", name)
		case seen[name]:
			return fmt.Errorf("env: %q is declared twice", name)
		case strings.HasPrefix(name, "HOST_"), strings.HasPrefix(name, "FEDSOURCE_"), slices.Contains(DefaultEnvAllowList, name):
			return fmt.Errorf("env: %q belongs to the host or the loader; a plugin may not declare it", name)
		case !strings.HasPrefix(name, prefix) || name == prefix:
			return fmt.Errorf("env: %q is not under the plugin's prefix %s (its upper-cased id and \"_\")", name, prefix)
		}
		seen[name] = true
	}
	return nil
}

// notWritableByOthers refuses a file that group or other users may write (on Unix): whoever
// can write it can change what the host runs.
func notWritableByOthers(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("plugin file: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by other users (mode %04o): refusing it (chmod go-w)", path, fi.Mode().Perm())
	}
	return nil
}

// ExecutableName is the file name of the executable for this OS and architecture.
func (m *Manifest) ExecutableName() string {
	name := fmt.Sprintf("%s_%s_%s", m.Executable, runtime.GOOS, runtime.GOARCH)
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return name
}

// ExecutablePath is the absolute path of the executable for this OS and architecture.
func (m *Manifest) ExecutablePath() string { return filepath.Join(m.Dir, m.ExecutableName()) }

// Checksum returns the manifest's sha256 of this platform's executable, refusing a manifest without one.
func (m *Manifest) Checksum() (string, error) {
	sum := m.Checksums[m.ExecutableName()]
	if sum == "" {
		return "", fmt.Errorf("manifest of %q has no checksum for %s: refusing to start an unverified executable", m.ID, m.ExecutableName())
	}
	if !checksumRE.MatchString(sum) {
		return "", fmt.Errorf("manifest of %q: checksum for %s is not a lowercase sha256 hex string", m.ID, m.ExecutableName())
	}
	return sum, nil
}
